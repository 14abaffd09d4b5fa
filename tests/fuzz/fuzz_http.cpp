// HTTP upgrade request parsing and the header helpers behind authentication.
#include <cstdint>
#include <string>

#include "wse/protocol/http_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wse::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)find_head_end(input);
  auto parsed = parse_request_head(input);
  if (parsed.request) {
    std::string why;
    (void)check_upgrade(*parsed.request, &why);
    (void)query_param(parsed.request->query, "token");
    (void)query_flag(parsed.request->query, "format", "msgpack");
    (void)cookie_value(parsed.request->cookie, "access_token");
    (void)bearer_token(parsed.request->authorization);
  }
  (void)cookie_value(input, "access_token");
  (void)bearer_token(input);
  (void)query_param(input, "token");
  return 0;
}
