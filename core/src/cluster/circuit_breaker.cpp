#include "wse/cluster/circuit_breaker.hpp"

namespace wse::cluster {

std::string_view to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::Closed:
      return "closed";
    case BreakerState::Open:
      return "open";
    case BreakerState::HalfOpen:
      return "half_open";
  }
  return "closed";
}

void CircuitBreaker::open(Clock::time_point now) noexcept {
  state_ = BreakerState::Open;
  open_until_ = now + policy_.open_for;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  ++opened_;
}

bool CircuitBreaker::allow(Clock::time_point now) noexcept {
  switch (state_) {
    case BreakerState::Closed:
      return true;
    case BreakerState::Open:
      if (now < open_until_) return false;
      state_ = BreakerState::HalfOpen;
      probes_in_flight_ = 0;
      probe_successes_ = 0;
      [[fallthrough]];
    case BreakerState::HalfOpen:
      if (probes_in_flight_ + probe_successes_ >= policy_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::on_success() noexcept {
  if (state_ == BreakerState::HalfOpen) {
    if (probes_in_flight_ > 0) --probes_in_flight_;
    if (++probe_successes_ >= policy_.half_open_probes) {
      state_ = BreakerState::Closed;
      failures_ = 0;
    }
    return;
  }
  failures_ = 0;
}

void CircuitBreaker::on_failure(Clock::time_point now) noexcept {
  if (state_ == BreakerState::HalfOpen) {
    failures_ = policy_.failure_threshold;
    open(now);
    return;
  }
  if (state_ == BreakerState::Open) return;
  if (++failures_ >= policy_.failure_threshold) open(now);
}

}  // namespace wse::cluster
