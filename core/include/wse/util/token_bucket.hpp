#pragma once
// Token bucket: `capacity` tokens, refilled continuously at `refill_per_second`.
// Time is passed in (nanoseconds of a monotonic clock) so tests control it and
// the server reuses one clock read. Not thread-safe: callers synchronise (the
// server owns one per connection on its I/O thread; the binding holds the GIL).
#include <algorithm>
#include <cstdint>

namespace wse::util {

class TokenBucket {
 public:
  TokenBucket(double capacity, double refill_per_second, double initial_tokens, std::int64_t now_ns) noexcept
      : capacity_(capacity), rate_(refill_per_second), tokens_(initial_tokens), last_ns_(now_ns) {}

  bool try_consume(double tokens, std::int64_t now_ns) noexcept {
    refill(now_ns);
    if (tokens_ < tokens) return false;
    tokens_ -= tokens;
    return true;
  }
  double available(std::int64_t now_ns) noexcept {
    refill(now_ns);
    return tokens_;
  }
  void reset(std::int64_t now_ns) noexcept {
    tokens_ = capacity_;
    last_ns_ = now_ns;
  }
  double capacity() const noexcept { return capacity_; }
  double refill_rate() const noexcept { return rate_; }

 private:
  void refill(std::int64_t now_ns) noexcept {
    if (now_ns > last_ns_) {
      tokens_ = std::min(capacity_, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_);
      last_ns_ = now_ns;
    }
  }
  double capacity_;
  double rate_;
  double tokens_;
  std::int64_t last_ns_;
};

}  // namespace wse::util
