#pragma once
// The client side of RFC 6455 that the load generator needs: the upgrade
// request and the check of Sec-WebSocket-Accept, masked frames towards the
// server, and a parser for the unmasked frames the server sends. Header-only,
// no sockets; independent of the server's own codec on purpose (a bench client
// that shared the server's parser would not catch the server's bugs).
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace wse::bench {

enum class Op : std::uint8_t { Cont = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

inline std::string base64(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t b0 = data[i];
    const std::uint32_t b1 = i + 1 < n ? data[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < n ? data[i + 2] : 0;
    const std::uint32_t v = (b0 << 16) | (b1 << 8) | b2;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kAlphabet[v & 63] : '=');
  }
  return out;
}

// Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2).
inline std::string accept_key(std::string_view key) {
  std::string s(key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return base64(digest, sizeof digest);
}

// Small, fast PRNG for keys and masks (not security relevant in a load generator).
struct XorShift {
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// Appends the upgrade request; `key` receives the Sec-WebSocket-Key used.
inline void append_upgrade_request(std::string& out, std::string_view host, std::string_view path,
                                   std::string_view token, XorShift& rng, std::string& key) {
  unsigned char raw[16];
  for (int i = 0; i < 16; i += 8) {
    const std::uint64_t r = rng.next();
    std::memcpy(raw + i, &r, 8);
  }
  key = base64(raw, sizeof raw);
  out.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
  out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
  out.append("\r\nSec-WebSocket-Version: 13\r\n");
  if (!token.empty()) out.append("Authorization: Bearer ").append(token).append("\r\n");
  out.append("\r\n");
}

// Appends one masked client frame (FIN set). The payload is masked while it is
// copied, eight bytes at a time (the load generator's CPU is part of every run).
inline void append_masked_frame(std::string& out, Op op, std::string_view payload, std::uint32_t mask) {
  const std::size_t n = payload.size();
  char head[14];
  std::size_t h = 0;
  head[h++] = static_cast<char>(0x80 | static_cast<unsigned>(op));
  if (n < 126) {
    head[h++] = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    head[h++] = static_cast<char>(0x80 | 126);
    head[h++] = static_cast<char>((n >> 8) & 0xFF);
    head[h++] = static_cast<char>(n & 0xFF);
  } else {
    head[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      head[h++] = static_cast<char>((static_cast<std::uint64_t>(n) >> (i * 8)) & 0xFF);
  }
  std::memcpy(head + h, &mask, 4);
  h += 4;
  const std::size_t at = out.size();
  out.resize(at + h + n);
  char* dst = out.data() + at;
  std::memcpy(dst, head, h);
  dst += h;
  const std::uint64_t mask64 = (static_cast<std::uint64_t>(mask) << 32) | mask;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // the mask repeats every 4 bytes, so every 8 too
    std::uint64_t w;
    std::memcpy(&w, payload.data() + i, 8);
    w ^= mask64;
    std::memcpy(dst + i, &w, 8);
  }
  unsigned char m[4];
  std::memcpy(m, &mask, 4);
  for (; i < n; ++i) dst[i] = static_cast<char>(payload[i] ^ static_cast<char>(m[i & 3]));
}

// One server frame found in a buffer. Server frames are never masked; a masked
// one is a server bug and reported as an error.
struct ServerFrame {
  Op op = Op::Text;
  bool fin = true;
  std::string_view payload;
  std::size_t size = 0;  // header + payload
};

enum class ParseResult : std::uint8_t { Frame, NeedMore, Error };

inline ParseResult parse_server_frame(const char* data, std::size_t len, ServerFrame& f) {
  if (len < 2) return ParseResult::NeedMore;
  const auto b0 = static_cast<unsigned char>(data[0]);
  const auto b1 = static_cast<unsigned char>(data[1]);
  if ((b1 & 0x80) != 0) return ParseResult::Error;
  std::size_t header = 2;
  std::uint64_t n = b1 & 0x7F;
  if (n == 126) {
    if (len < 4) return ParseResult::NeedMore;
    n = (static_cast<std::uint64_t>(static_cast<unsigned char>(data[2])) << 8) |
        static_cast<unsigned char>(data[3]);
    header = 4;
  } else if (n == 127) {
    if (len < 10) return ParseResult::NeedMore;
    n = 0;
    for (int i = 0; i < 8; ++i) n = (n << 8) | static_cast<unsigned char>(data[2 + i]);
    header = 10;
  }
  if (n > (64u << 20)) return ParseResult::Error;
  if (len < header + n) return ParseResult::NeedMore;
  f.op = static_cast<Op>(b0 & 0x0F);
  f.fin = (b0 & 0x80) != 0;
  f.payload = std::string_view(data + header, static_cast<std::size_t>(n));
  f.size = header + static_cast<std::size_t>(n);
  return ParseResult::Frame;
}

// Whether the 8 bytes of `v` (little endian) are all ASCII digits.
inline bool eight_digits(std::uint64_t v) noexcept {
  return (((v & 0xF0F0F0F0F0F0F0F0ull) | (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ==
          0x3333333333333333ull);
}
// The value of 8 ASCII digits (the first byte is the most significant digit).
inline std::uint64_t eight_digits_value(std::uint64_t v) noexcept {
  v -= 0x3030303030303030ull;
  v = (v * 10) + (v >> 8);
  v = (((v & 0x000000FF000000FFull) * 0x000F424000000064ull) +
       (((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull)) >>
      32;
  return v;
}

// Reads an unsigned decimal at `i` and moves `i` past it (stops at the first
// non-digit; parse_u64 takes a position by value). Every
// fan-out delivery carries two (seq and a 13-20 digit timestamp): eight digits
// are taken per step while eight remain.
inline std::uint64_t parse_digits(std::string_view s, std::size_t& i) noexcept {
  std::uint64_t v = 0;
  while (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (!eight_digits(w)) break;
    v = v * 100000000ull + eight_digits_value(w);
    i += 8;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}
inline std::uint64_t parse_u64(std::string_view s, std::size_t at) noexcept { return parse_digits(s, at); }

// Writes `v` as exactly `width` decimal digits (zero-padded; the low digits if wider).
inline void write_fixed_digits(char* out, std::uint64_t v, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// Finds `"name":` in a JSON text and parses the unsigned number after it;
// false when absent. The bench messages put seq and ts first, so this is a
// short scan.
inline bool json_u64(std::string_view s, std::string_view quoted_key, std::uint64_t& out) noexcept {
  const std::size_t at = s.find(quoted_key);
  if (at == std::string_view::npos) return false;
  std::size_t i = at + quoted_key.size();
  while (i < s.size() && (s[i] == ' ' || s[i] == ':')) ++i;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  out = parse_u64(s, i);
  return true;
}

}  // namespace wse::bench
