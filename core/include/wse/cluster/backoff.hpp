#pragma once
// Reconnect delays: exponential with jitter, as the seed specifies (first delay
// 1 s, x1.5 per failed attempt, at most 60 s, each delay scaled by a random
// factor in [0.8, 1.2]); reset() after a successful connection.
//
// Pure: the random factor comes from the caller (a value in [0, 1)), so tests
// and the broker decide where randomness comes from. Not thread-safe; the broker
// uses one instance per connection, on its own thread.
#include <chrono>
#include <cstdint>

namespace wse::cluster {

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  double multiplier = 1.5;
  std::chrono::milliseconds max{60000};
  double jitter = 0.2;  // +-20 %
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

  // The delay before the next attempt; `unit_random` in [0, 1) picks the jitter.
  // Advances the exponent (capped, so it never overflows however long Redis is down).
  std::chrono::milliseconds next_delay(double unit_random) noexcept;
  void reset() noexcept { attempts_ = 0; }
  std::uint32_t attempts() const noexcept { return attempts_; }
  const BackoffPolicy& policy() const noexcept { return policy_; }

 private:
  BackoffPolicy policy_;
  std::uint32_t attempts_ = 0;
};

}  // namespace wse::cluster
