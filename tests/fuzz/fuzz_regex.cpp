// `$regex` of event filters: any pattern either compiles (RE2, linear-time search)
// or is an InvalidArgument; searching never crashes or stalls. Input layout:
// options byte, then pattern and subject separated by the first NUL byte.
#include <cstdint>
#include <string>

#include "wse/filter/regex.hpp"
#include "wse/util/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr const char* kOptions[] = {"", "i", "m", "s", "ims", "x"};
  const char* options = kOptions[data[0] % 6];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nul = rest.find('\0');
  const std::string_view pattern = rest.substr(0, nul);
  const std::string_view subject = nul == std::string_view::npos ? rest : rest.substr(nul + 1);
  try {
    (void)wse::filter::regex_search(pattern, subject, options);
  } catch (const wse::InvalidArgument&) {
  }
  return 0;
}
