// RFC 6455 frame parser: arbitrary bytes, fed in arbitrary chunks, must never
// crash, read out of bounds or report a message over the limit.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "wse/protocol/frame.hpp"

namespace {
struct Sink {
  std::size_t limit;
  void on_message(wse::protocol::Opcode, std::string_view p) {
    if (p.size() > limit) std::abort();
  }
  void on_ping(std::string_view p) {
    if (p.size() > 125) std::abort();
  }
  void on_pong(std::string_view p) {
    if (p.size() > 125) std::abort();
  }
  void on_close(std::uint16_t, std::string_view) {}
  void on_protocol_error(std::uint16_t code, std::string_view) {
    if (code != 1002 && code != 1007 && code != 1009) std::abort();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;  // first byte picks the feeding pattern
  wse::protocol::FrameLimits limits;
  limits.max_message_size = 4096;
  limits.require_mask = (data[0] & 0x80) == 0;
  wse::protocol::FrameParser parser(limits);
  Sink sink{limits.max_message_size};
  std::string pending;
  for (std::size_t at = 1; at < size; at += chunk) {
    pending.append(reinterpret_cast<const char*>(data) + at, std::min(chunk, size - at));
    const auto r = parser.feed(pending.data(), pending.size(), sink);
    if (r.consumed > pending.size()) std::abort();
    pending.erase(0, r.consumed);
    if (r.stop) break;
  }
  return 0;
}
