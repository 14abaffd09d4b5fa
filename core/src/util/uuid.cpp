#include "wse/util/uuid.hpp"

#include <sys/random.h>

#include <cstdint>

#include "wse/util/clock.hpp"

namespace wse::util {
namespace {

// xoshiro256** seeded from getrandom(); one state per thread.
struct Rng {
  uint64_t s[4]{};
  Rng() noexcept {
    uint8_t* p = reinterpret_cast<uint8_t*>(s);
    std::size_t got = 0;
    while (got < sizeof(s)) {
      const ssize_t n = getrandom(p + got, sizeof(s) - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got < sizeof(s)) {  // never expected; fall back to time-derived seed
      uint64_t x = monotonic_ns() ^ static_cast<uint64_t>(unix_us());
      for (auto& w : s) {
        x += 0x9E3779B97F4A7C15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        w = z ^ (z >> 31);
      }
    }
  }
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t next() noexcept {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

Rng& rng() noexcept {
  thread_local Rng r;
  return r;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

uint64_t random_u64() noexcept { return rng().next(); }

double random_unit() noexcept { return static_cast<double>(rng().next() >> 11) * 0x1.0p-53; }

UuidText uuid7() noexcept {
  // Monotonic per thread: within one millisecond the 12-bit rand_a field counts up.
  thread_local int64_t last_ms = 0;
  thread_local uint32_t counter = 0;
  int64_t ms = unix_ms();
  if (ms <= last_ms) {
    ms = last_ms;
    if (++counter > 0xFFF) {
      ++ms;
      counter = static_cast<uint32_t>(random_u64() & 0x3FF);
    }
  } else {
    counter = static_cast<uint32_t>(random_u64() & 0x3FF);
  }
  last_ms = ms;

  uint8_t b[16];
  const auto ums = static_cast<uint64_t>(ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ums >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  const uint64_t r = random_u64();
  b[8] = static_cast<uint8_t>(0x80 | ((r >> 56) & 0x3F));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(r >> (8 * (15 - i)));

  UuidText out{};
  std::size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0x0F];
  }
  return out;
}

std::string uuid7_string() {
  const UuidText t = uuid7();
  return {t.data(), t.size()};
}

}  // namespace wse::util
