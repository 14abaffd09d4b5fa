#pragma once
// A circuit breaker (CLOSED -> OPEN -> HALF_OPEN -> CLOSED) with the seed's
// numbers: 10 consecutive failures open it for 60 s; then up to 3 probe calls
// are let through; 3 successes close it, any failure while half-open re-opens it.
//
// Pure: time is passed in, so tests drive it with a fake clock. Not
// thread-safe; the broker owns two (connect and publish) on its thread and
// mirrors their state into atomics for health().
#include <chrono>
#include <cstdint>
#include <string_view>

namespace wse::cluster {

struct BreakerPolicy {
  std::uint32_t failure_threshold = 10;
  std::chrono::milliseconds open_for{60000};
  std::uint32_t half_open_probes = 3;  // probes let through, and successes needed to close
};

enum class BreakerState : std::uint8_t { Closed, Open, HalfOpen };
std::string_view to_string(BreakerState s) noexcept;

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreaker(BreakerPolicy policy = {}) : policy_(policy) {}

  // May a call start now? OPEN turns HALF_OPEN once `open_for` has passed;
  // HALF_OPEN admits at most `half_open_probes` calls whose outcome is pending.
  // Each true must be followed by exactly one on_success/on_failure.
  bool allow(Clock::time_point now) noexcept;
  void on_success() noexcept;
  void on_failure(Clock::time_point now) noexcept;

  BreakerState state() const noexcept { return state_; }
  std::uint32_t consecutive_failures() const noexcept { return failures_; }
  std::uint64_t times_opened() const noexcept { return opened_; }
  // When an OPEN breaker will admit probes.
  Clock::time_point reopens_at() const noexcept { return open_until_; }

 private:
  void open(Clock::time_point now) noexcept;

  BreakerPolicy policy_;
  BreakerState state_ = BreakerState::Closed;
  std::uint32_t failures_ = 0;
  std::uint32_t probes_in_flight_ = 0;
  std::uint32_t probe_successes_ = 0;
  std::uint64_t opened_ = 0;
  Clock::time_point open_until_{};
};

}  // namespace wse::cluster
