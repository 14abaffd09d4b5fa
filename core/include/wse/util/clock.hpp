#pragma once
// Wall-clock and monotonic time, and the ISO-8601 forms used on the wire.
// All functions are pure or read the system clock; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wse::util {

int64_t unix_ms() noexcept;        // wall clock, milliseconds since the epoch
int64_t unix_us() noexcept;        // wall clock, microseconds since the epoch
uint64_t monotonic_ns() noexcept;  // steady clock, for intervals and ages
double monotonic_s() noexcept;     // steady clock in seconds

// "2026-02-24T12:00:00.123Z": RFC 3339, UTC, millisecond precision (24 chars).
// Used for envelope `ts` built by the server.
inline constexpr std::size_t kIsoMsLength = 24;
void format_iso8601_ms(int64_t unix_ms, char* out) noexcept;  // writes exactly 24 chars
std::string iso8601_ms(int64_t unix_ms);

// "2026-02-24T12:00:00.123456Z": microsecond precision (27 chars), used by transform_event.
std::string iso8601_us(int64_t unix_us);

// Parses RFC 3339 ("...Z" or "+hh:mm") and naive ISO-8601 (read as UTC), with an
// optional fraction of up to 9 digits. Returns microseconds since the epoch.
std::optional<int64_t> parse_iso8601_us(std::string_view text) noexcept;

}  // namespace wse::util
