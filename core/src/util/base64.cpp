#include "wse/util/base64.hpp"

#include <array>
#include <cstdint>

namespace wse::util {
namespace {

constexpr std::string_view kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_table(std::string_view alphabet) {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}
constexpr auto kStdTable = make_table(kStd);
constexpr auto kUrlTable = make_table(kUrl);

std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t n = byte(i) << 16;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

std::optional<std::string> decode(std::string_view text, const std::array<int8_t, 256>& table, bool padded) {
  std::size_t pad_count = 0;
  if (padded) {
    if (text.size() % 4 != 0) return std::nullopt;
    while (pad_count < 2 && !text.empty() && text[text.size() - 1 - pad_count] == '=') ++pad_count;
    text.remove_suffix(pad_count);
  }
  const std::size_t rest = text.size() % 4;
  if (rest == 1) return std::nullopt;
  if (padded && pad_count != (4 - rest) % 4) return std::nullopt;
  // Four characters -> three bytes, written straight into the sized result: this
  // runs on every JWT segment and WebSocket key, so no per-byte push_back.
  std::string out(text.size() / 4 * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  auto v = [&](std::size_t i) { return table[static_cast<unsigned char>(text[i])]; };
  const std::size_t full = text.size() - rest;
  for (std::size_t i = 0; i < full; i += 4) {
    const int8_t a = v(i), b = v(i + 1), c = v(i + 2), d = v(i + 3);
    if ((a | b | c | d) < 0) return std::nullopt;  // any -1 (not in the alphabet) sets the sign bit
    const uint32_t n = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    *o++ = static_cast<unsigned char>(n >> 16);
    *o++ = static_cast<unsigned char>(n >> 8);
    *o++ = static_cast<unsigned char>(n);
  }
  if (rest != 0) {
    const int8_t a = v(full), b = v(full + 1), c = rest == 3 ? v(full + 2) : int8_t{0};
    if ((a | b | c) < 0) return std::nullopt;
    const uint32_t n =
        (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) | (static_cast<uint32_t>(c) << 6);
    // Canonical form: the unused low bits of the last character must be zero.
    if ((rest == 2 && (n & 0xFFFF) != 0) || (rest == 3 && (n & 0xFF) != 0)) return std::nullopt;
    *o++ = static_cast<unsigned char>(n >> 16);
    if (rest == 3) *o++ = static_cast<unsigned char>(n >> 8);
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view data) { return encode(data, kStd, true); }
std::string base64url_encode(std::string_view data) { return encode(data, kUrl, false); }
std::optional<std::string> base64_decode(std::string_view text) { return decode(text, kStdTable, true); }
std::optional<std::string> base64url_decode(std::string_view text) { return decode(text, kUrlTable, false); }

}  // namespace wse::util
