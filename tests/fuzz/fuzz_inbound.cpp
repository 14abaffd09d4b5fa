// Inbound JSON messages: category prefixes, legacy pings and the fields the
// server acts on natively (type, ping timestamp, subscription requests).
#include <cstdint>
#include <string>

#include "wse/protocol/envelope.hpp"
#include "wse/protocol/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wse::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)is_valid_utf8(text);
  (void)legacy_ping(text);
  if (auto json = strip_category(text)) {
    const InboundInfo info = inspect_inbound(*json);
    (void)category_for_type(info.type);
  }
  (void)inspect_inbound(text);
  return 0;
}
