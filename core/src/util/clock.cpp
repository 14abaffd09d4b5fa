#include "wse/util/clock.hpp"

#include <chrono>

namespace wse::util {
namespace {

// Days since 1970-01-01 to civil date, and back (proleptic Gregorian calendar).
struct Civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(int64_t z) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {m <= 2 ? y + 1 : y, m, d};
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void put_digits(char* out, int64_t value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Writes "YYYY-MM-DDTHH:MM:SS" (19 chars) for the given whole seconds.
void format_seconds(int64_t secs, char* out) noexcept {
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const Civil c = civil_from_days(days);
  put_digits(out, c.y, 4);
  out[4] = '-';
  put_digits(out + 5, c.m, 2);
  out[7] = '-';
  put_digits(out + 8, c.d, 2);
  out[10] = 'T';
  put_digits(out + 11, rem / 3600, 2);
  out[13] = ':';
  put_digits(out + 14, (rem / 60) % 60, 2);
  out[16] = ':';
  put_digits(out + 17, rem % 60, 2);
}

int64_t floor_div(int64_t a, int64_t b) noexcept {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

int64_t unix_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t unix_us() noexcept {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

uint64_t monotonic_ns() noexcept {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

double monotonic_s() noexcept { return static_cast<double>(monotonic_ns()) / 1e9; }

void format_iso8601_ms(int64_t ms, char* out) noexcept {
  const int64_t secs = floor_div(ms, 1000);
  format_seconds(secs, out);
  out[19] = '.';
  put_digits(out + 20, ms - secs * 1000, 3);
  out[23] = 'Z';
}

std::string iso8601_ms(int64_t ms) {
  std::string s(kIsoMsLength, '\0');
  format_iso8601_ms(ms, s.data());
  return s;
}

std::string iso8601_us(int64_t us) {
  std::string s(27, '\0');
  const int64_t secs = floor_div(us, 1000000);
  format_seconds(secs, s.data());
  s[19] = '.';
  put_digits(s.data() + 20, us - secs * 1000000, 6);
  s[26] = 'Z';
  return s;
}

std::optional<int64_t> parse_iso8601_us(std::string_view t) noexcept {
  std::size_t i = 0;
  auto digits = [&](int n, int64_t& v) {
    v = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= t.size() || t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    return true;
  };
  auto expect = [&](char c) {
    if (i < t.size() && t[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(4, y) || !expect('-') || !digits(2, mo) || !expect('-') || !digits(2, d)) return std::nullopt;
  if (i >= t.size() || (t[i] != 'T' && t[i] != 't' && t[i] != ' ')) return std::nullopt;
  ++i;
  if (!digits(2, h) || !expect(':') || !digits(2, mi) || !expect(':') || !digits(2, s)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t frac_us = 0;
  if (expect('.')) {
    int n = 0;
    int64_t scale = 100000;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (n < 6) {
        frac_us += (t[i] - '0') * scale;
        scale /= 10;
      }
      ++n;
      ++i;
    }
    if (n == 0 || n > 9) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < t.size()) {
    if (t[i] == 'Z' || t[i] == 'z') {
      ++i;
    } else if (t[i] == '+' || t[i] == '-') {
      const int sign = t[i] == '-' ? -1 : 1;
      ++i;
      int64_t oh = 0, om = 0;
      if (!digits(2, oh) || !expect(':') || !digits(2, om) || oh > 23 || om > 59) return std::nullopt;
      offset_s = sign * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
  }
  if (i != t.size()) return std::nullopt;
  const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_s;
  return secs * 1000000 + frac_us;
}

}  // namespace wse::util
