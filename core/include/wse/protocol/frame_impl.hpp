#pragma once
// Template part of frame.hpp (FrameParser::feed). Include frame.hpp instead.
#include <cstring>

#include "wse/protocol/utf8.hpp"

namespace wse::protocol {

namespace detail {

// Unmasks in place and says whether every unmasked byte is ASCII: a text payload
// that is needs no separate UTF-8 pass (the common case, checked while the bytes
// are in registers anyway).
inline bool unmask(char* data, std::size_t n, const unsigned char key[4]) noexcept {
  std::uint32_t k32;
  std::memcpy(&k32, key, 4);
  const std::uint64_t k64 = (static_cast<std::uint64_t>(k32) << 32) | k32;
  std::uint64_t high = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k64;
    high |= w;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(static_cast<unsigned char>(data[i]) ^ key[i & 3]);
    high |= c;
    data[i] = static_cast<char>(c);
  }
  return (high & 0x8080808080808080ULL) == 0;
}

}  // namespace detail

template <class Handler>
FeedResult FrameParser::feed(char* data, std::size_t size, Handler& handler) {
  FeedResult result;
  std::size_t pos = 0;
  auto fail = [&](std::uint16_t code, std::string_view why) {
    handler.on_protocol_error(code, why);
    result.consumed = pos;
    result.stop = true;
    return result;
  };
  while (size - pos >= 2) {
    const auto* h = reinterpret_cast<const unsigned char*>(data + pos);
    const bool fin = (h[0] & 0x80) != 0;
    const unsigned rsv = h[0] & 0x70;
    const auto op = static_cast<Opcode>(h[0] & 0x0F);
    const bool masked = (h[1] & 0x80) != 0;
    std::uint64_t len = h[1] & 0x7F;
    std::size_t header = 2;
    if (rsv != 0) return fail(1002, "reserved bits set without a negotiated extension");
    const bool control = (h[0] & 0x08) != 0;
    switch (op) {
      case Opcode::Continuation:
      case Opcode::Text:
      case Opcode::Binary:
      case Opcode::Close:
      case Opcode::Ping:
      case Opcode::Pong:
        break;
      default:
        return fail(1002, "unknown opcode");
    }
    if (control && (!fin || len > 125)) return fail(1002, "fragmented or oversized control frame");
    if (len == 126) {
      if (size - pos < 4) break;
      len = (static_cast<std::uint64_t>(h[2]) << 8) | h[3];
      header = 4;
      if (len < 126) return fail(1002, "non-minimal payload length");
    } else if (len == 127) {
      if (size - pos < 10) break;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
      header = 10;
      if (len >> 63) return fail(1002, "payload length with the top bit set");
      if (len <= 0xFFFF) return fail(1002, "non-minimal payload length");
    }
    if (limits_.require_mask && !masked) return fail(1002, "client frames must be masked");
    if (!control) {
      const std::uint64_t so_far = (op == Opcode::Continuation && fragments_) ? fragments_->size() : 0;
      if (len > limits_.max_message_size || so_far + len > limits_.max_message_size)
        return fail(1009, "message over max_message_size");
    }
    const std::size_t mask_size = masked ? 4 : 0;
    if (size - pos < header + mask_size || size - pos - header - mask_size < len) break;
    unsigned char key[4] = {0, 0, 0, 0};
    if (masked) std::memcpy(key, h + header, 4);
    char* payload = data + pos + header + mask_size;
    const auto n = static_cast<std::size_t>(len);
    const bool ascii = masked && detail::unmask(payload, n, key);
    pos += header + mask_size + n;
    std::string_view body(payload, n);

    switch (op) {
      case Opcode::Ping:
        handler.on_ping(body);
        break;
      case Opcode::Pong:
        handler.on_pong(body);
        break;
      case Opcode::Close: {
        if (n == 1) return fail(1002, "close frame with a one-byte payload");
        std::uint16_t code = 1005;
        std::string_view reason;
        if (n >= 2) {
          code = static_cast<std::uint16_t>((static_cast<unsigned char>(body[0]) << 8) |
                                            static_cast<unsigned char>(body[1]));
          if (!is_valid_close_code(code)) return fail(1002, "invalid close code");
          reason = body.substr(2);
          if (!is_valid_utf8(reason)) return fail(1007, "close reason is not valid UTF-8");
        }
        handler.on_close(code, reason);
        result.consumed = pos;
        result.stop = true;
        return result;
      }
      case Opcode::Text:
      case Opcode::Binary:
        if (fragment_op_ != Opcode::Continuation) return fail(1002, "new message inside a fragmented one");
        if (fin) {
          if (op == Opcode::Text && !ascii && !is_valid_utf8(body))
            return fail(1007, "text frame is not valid UTF-8");
          handler.on_message(op, body);
        } else {
          fragment_op_ = op;
          fragments_ = std::make_unique<std::string>(body);
        }
        break;
      case Opcode::Continuation:
        if (fragment_op_ == Opcode::Continuation) return fail(1002, "continuation without a message");
        fragments_->append(body);
        if (fin) {
          const Opcode whole = fragment_op_;
          fragment_op_ = Opcode::Continuation;
          if (whole == Opcode::Text && !is_valid_utf8(*fragments_))
            return fail(1007, "text message is not valid UTF-8");
          const std::unique_ptr<std::string> message = std::move(fragments_);
          handler.on_message(whole, std::string_view(*message));
        }
        break;
      default:
        break;
    }
  }
  result.consumed = pos;
  return result;
}

}  // namespace wse::protocol
