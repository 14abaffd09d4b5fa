#pragma once
// RFC 6455 framing as a pure state machine: bytes in, events out. No sockets, so
// unit tests and fuzzers drive it directly.
//
// The parser consumes only whole frames from the buffer it is given and unmasks
// them in place; the caller keeps the unconsumed tail (an incomplete frame) and
// offers it again with more bytes. Complete single-frame messages are handed out
// as views into the caller's buffer (no copy); fragmented messages are assembled
// in the parser's own buffer, which exists only while a message is in flight.
//
// Thread-safety: one parser per connection, used by one thread at a time.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wse::protocol {

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// What the parser reports. A handler is any type with these member functions.
//   void on_message(Opcode op, std::string_view payload);   // Text (valid UTF-8) or Binary
//   void on_ping(std::string_view payload);
//   void on_pong(std::string_view payload);
//   void on_close(std::uint16_t code, std::string_view reason);  // code 1005 when absent
//   void on_protocol_error(std::uint16_t close_code, std::string_view why);  // parsing stops

struct FrameLimits {
  std::size_t max_message_size = 1 << 20;  // after reassembly; larger -> 1009
  bool require_mask = true;                // server side: clients must mask (else 1002)
};

// Result of one feed: how many bytes were consumed and whether parsing must stop
// (a close frame or a protocol error was reported).
struct FeedResult {
  std::size_t consumed = 0;
  bool stop = false;
};

class FrameParser {
 public:
  explicit FrameParser(FrameLimits limits = {}) : limits_(limits) {}

  // Parses as many whole frames as `data` holds. Unmasks payloads in place.
  template <class Handler>
  FeedResult feed(char* data, std::size_t size, Handler& handler);

  // Bytes still needed to complete the frame at the start of `data`, or 0 if
  // the header itself is incomplete; lets the caller size its buffer.
  static std::size_t frame_size(const char* data, std::size_t size) noexcept;

  bool in_fragmented_message() const noexcept { return fragment_op_ != Opcode::Continuation; }
  const FrameLimits& limits() const noexcept { return limits_; }
  // Releases the reassembly buffer's memory (idle connections keep nothing).
  void shrink() { fragments_.reset(); }

 private:
  FrameLimits limits_;
  Opcode fragment_op_ = Opcode::Continuation;  // Text/Binary while a fragmented message is open
  std::unique_ptr<std::string> fragments_;     // only while a fragmented message is open
};

// True if `code` may appear in a close frame on the wire (RFC 6455 7.4).
bool is_valid_close_code(std::uint16_t code) noexcept;

// Frame encoders. Server frames are never masked; client frames always are.
// Header size for a payload of `n` bytes (2, 4 or 10 bytes, +4 when masked).
std::size_t frame_header_size(std::size_t n, bool masked = false) noexcept;
// Writes the header for one final frame into `out` (room for 14 bytes); returns its size.
std::size_t write_frame_header(char* out, Opcode op, std::size_t n, bool fin = true) noexcept;
std::string encode_frame(Opcode op, std::string_view payload);
void append_frame(std::string& out, Opcode op, std::string_view payload);
std::string encode_close_frame(std::uint16_t code, std::string_view reason);
// A masked client frame (tests, load generator). `mask` is the 4-byte key.
std::string encode_client_frame(Opcode op, std::string_view payload, std::uint32_t mask, bool fin = true);

}  // namespace wse::protocol

#include "wse/protocol/frame_impl.hpp"
