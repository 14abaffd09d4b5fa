#include "wse/protocol/frame.hpp"

#include <cstring>

namespace wse::protocol {

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014:
      return true;
    default:
      return false;
  }
}

std::size_t FrameParser::frame_size(const char* data, std::size_t size) noexcept {
  if (size < 2) return 0;
  const auto* h = reinterpret_cast<const unsigned char*>(data);
  std::uint64_t len = h[1] & 0x7F;
  std::size_t header = 2;
  if (len == 126) {
    if (size < 4) return 0;
    len = (static_cast<std::uint64_t>(h[2]) << 8) | h[3];
    header = 4;
  } else if (len == 127) {
    if (size < 10) return 0;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
    header = 10;
  }
  if ((h[1] & 0x80) != 0) header += 4;
  if (len > (std::uint64_t{1} << 40)) return 0;  // absurd; the parser rejects it by size
  return header + static_cast<std::size_t>(len);
}

std::size_t frame_header_size(std::size_t n, bool masked) noexcept {
  const std::size_t base = n < 126 ? 2 : (n <= 0xFFFF ? 4 : 10);
  return base + (masked ? 4 : 0);
}

std::size_t write_frame_header(char* out, Opcode op, std::size_t n, bool fin) noexcept {
  auto* o = reinterpret_cast<unsigned char*>(out);
  o[0] = static_cast<unsigned char>((fin ? 0x80 : 0x00) | static_cast<unsigned>(op));
  if (n < 126) {
    o[1] = static_cast<unsigned char>(n);
    return 2;
  }
  if (n <= 0xFFFF) {
    o[1] = 126;
    o[2] = static_cast<unsigned char>(n >> 8);
    o[3] = static_cast<unsigned char>(n);
    return 4;
  }
  o[1] = 127;
  for (int i = 0; i < 8; ++i)
    o[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
  return 10;
}

void append_frame(std::string& out, Opcode op, std::string_view payload) {
  char header[14];
  const std::size_t h = write_frame_header(header, op, payload.size());
  out.append(header, h);
  out.append(payload);
}

std::string encode_frame(Opcode op, std::string_view payload) {
  std::string out;
  out.reserve(frame_header_size(payload.size()) + payload.size());
  append_frame(out, op, payload);
  return out;
}

std::string encode_close_frame(std::uint16_t code, std::string_view reason) {
  if (reason.size() > 123) reason = reason.substr(0, 123);  // control payload max 125
  std::string body;
  body.push_back(static_cast<char>(code >> 8));
  body.push_back(static_cast<char>(code & 0xFF));
  body.append(reason);
  return encode_frame(Opcode::Close, body);
}

std::string encode_client_frame(Opcode op, std::string_view payload, std::uint32_t mask, bool fin) {
  std::string out;
  char header[14];
  const std::size_t h = write_frame_header(header, op, payload.size(), fin);
  header[1] = static_cast<char>(header[1] | 0x80);
  out.append(header, h);
  unsigned char key[4];
  std::memcpy(key, &mask, 4);
  out.append(reinterpret_cast<const char*>(key), 4);
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ static_cast<char>(key[i & 3]));
  return out;
}

}  // namespace wse::protocol
