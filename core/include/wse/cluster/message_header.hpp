#pragma once
// The header WSE puts in front of every payload it publishes on Redis, so that
// receivers can deliver each message exactly once (docs/PROTOCOL.md, "Redis").
//
//   offset  size  field
//   0       3     magic 0x00 'W' 'S' (no text payload starts with NUL)
//   3       1     version, 1
//   4       1     flags: bit 0 binary payload, bit 1 topic field present,
//                        bit 2 one of several copies (cluster pattern fan-out)
//   5       8     publisher id, big-endian, random per broker start, never 0
//   13      8     sequence, big-endian, increasing per publisher in the order
//                 the publisher writes to one Redis node
//   21      8     message id, big-endian, when bit 2 is set: the same in every
//                 copy of one publish (a copy re-sent later gets a new sequence)
//   ...     2+n   topic (u16 big-endian length, then bytes) when bit 1 is set
//   ...           the payload, unchanged
//
// A payload that does not start with the magic is "raw" (published by another
// process, e.g. a PubSubBus or WSE 1.4) and is delivered as it is.
// Pure functions of bytes; thread-safe; fuzzed (tests/fuzz/fuzz_redis.cpp).
#include <cstdint>
#include <string>
#include <string_view>

namespace wse::cluster {

inline constexpr std::string_view kHeaderMagic{"\0WS", 3};
inline constexpr std::uint8_t kHeaderVersion = 1;
inline constexpr std::size_t kHeaderSize = 21;  // without the optional topic
inline constexpr std::size_t kMaxHeaderTopic = 65535;

struct MessageHeader {
  std::uint64_t publisher = 0;
  std::uint64_t seq = 0;
  bool binary = false;
  bool multi_copy = false;
  std::uint64_t message_id = 0;  // multi_copy only
  std::string_view topic;        // empty unless the channel does not name the topic
};

enum class HeaderParse : std::uint8_t { Raw, Framed, Malformed };

struct ParsedPayload {
  HeaderParse kind = HeaderParse::Raw;
  MessageHeader header;      // valid when kind == Framed; views into the input
  std::string_view payload;  // the application bytes (the whole input when Raw)
};

// Appends header + payload to `out`. Throws wse::InvalidArgument if the topic
// is longer than kMaxHeaderTopic.
void encode_message(const MessageHeader& header, std::string_view payload, std::string& out);
std::size_t encoded_size(const MessageHeader& header, std::size_t payload_size) noexcept;

// Splits a Redis payload. Malformed = the magic is there but the rest is not a
// valid version-1 header (truncated, unknown flags, publisher 0, other version).
ParsedPayload parse_message(std::string_view bytes) noexcept;

}  // namespace wse::cluster
