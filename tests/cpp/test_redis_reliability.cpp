// Unit tests of the reliability parts of the Redis broker: backoff, circuit
// breaker, dead-letter ring (core/src/cluster/).
#include <gtest/gtest.h>

#include <thread>

#include "wse/cluster/backoff.hpp"
#include "wse/cluster/circuit_breaker.hpp"
#include "wse/cluster/dead_letter_ring.hpp"

using namespace wse::cluster;
using namespace std::chrono_literals;

TEST(Backoff, GrowsByHalfAndCapsAtSixtySeconds) {
  Backoff b;
  // unit_random 0.5 = no jitter.
  EXPECT_EQ(b.next_delay(0.5), 1000ms);
  EXPECT_EQ(b.next_delay(0.5), 1500ms);
  EXPECT_EQ(b.next_delay(0.5), 2250ms);
  EXPECT_EQ(b.next_delay(0.5), 3375ms);
  for (int i = 0; i < 100; ++i) (void)b.next_delay(0.5);
  EXPECT_EQ(b.next_delay(0.5), 60000ms);
  EXPECT_LT(b.attempts(), 20u);  // the exponent stops growing at the cap
  b.reset();
  EXPECT_EQ(b.next_delay(0.5), 1000ms);
}

TEST(Backoff, JitterIsPlusMinusTwentyPercent) {
  Backoff lo, hi;
  EXPECT_EQ(lo.next_delay(0.0), 800ms);
  EXPECT_EQ(hi.next_delay(1.0), 1200ms);
  for (int i = 0; i < 50; ++i) {
    (void)lo.next_delay(0.0);
    (void)hi.next_delay(1.0);
  }
  EXPECT_EQ(lo.next_delay(0.0), 48000ms);
  EXPECT_EQ(hi.next_delay(1.0), 72000ms);
  Backoff clamp;
  EXPECT_EQ(clamp.next_delay(7.0), 1200ms);  // out-of-range randomness is clamped
}

TEST(CircuitBreaker, OpensAfterTenConsecutiveFailures) {
  CircuitBreaker cb;
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(cb.allow(t0));
    cb.on_failure(t0);
  }
  EXPECT_EQ(cb.state(), BreakerState::Closed);
  cb.on_success();  // a success resets the run
  for (int i = 0; i < 9; ++i) cb.on_failure(t0);
  EXPECT_EQ(cb.state(), BreakerState::Closed);
  cb.on_failure(t0);
  EXPECT_EQ(cb.state(), BreakerState::Open);
  EXPECT_FALSE(cb.allow(t0 + 59s));
  EXPECT_EQ(cb.times_opened(), 1u);
}

TEST(CircuitBreaker, HalfOpenAdmitsThreeProbesAndClosesAfterThreeSuccesses) {
  CircuitBreaker cb;
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) cb.on_failure(t0);
  const auto later = t0 + 60s;
  EXPECT_TRUE(cb.allow(later));
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
  EXPECT_TRUE(cb.allow(later));
  EXPECT_TRUE(cb.allow(later));
  EXPECT_FALSE(cb.allow(later));  // only three probes
  cb.on_success();
  cb.on_success();
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
  EXPECT_FALSE(cb.allow(later));  // two done, one pending: still three in all
  cb.on_success();
  EXPECT_EQ(cb.state(), BreakerState::Closed);
  EXPECT_TRUE(cb.allow(later));
}

TEST(CircuitBreaker, AFailureWhileHalfOpenReopens) {
  CircuitBreaker cb;
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) cb.on_failure(t0);
  const auto later = t0 + 61s;
  ASSERT_TRUE(cb.allow(later));
  cb.on_failure(later);
  EXPECT_EQ(cb.state(), BreakerState::Open);
  EXPECT_FALSE(cb.allow(later + 59s));
  EXPECT_TRUE(cb.allow(later + 60s));
  EXPECT_EQ(cb.times_opened(), 2u);
}

TEST(CircuitBreaker, CustomPolicy) {
  CircuitBreaker cb(BreakerPolicy{2, 10ms, 1});
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  cb.on_failure(t0);
  cb.on_failure(t0);
  EXPECT_EQ(cb.state(), BreakerState::Open);
  EXPECT_TRUE(cb.allow(t0 + 10ms));
  EXPECT_FALSE(cb.allow(t0 + 10ms));
  cb.on_success();
  EXPECT_EQ(cb.state(), BreakerState::Closed);
  EXPECT_EQ(to_string(BreakerState::HalfOpen), "half_open");
}

TEST(DeadLetterRing, KeepsTheNewestAndCountsEvictions) {
  DeadLetterRing ring(3);
  for (int i = 0; i < 5; ++i) ring.push({"wse:t", std::to_string(i), "e", false});
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.evicted(), 2u);
  EXPECT_EQ(ring.total_pushed(), 5u);
  auto out = ring.drain();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload, "2");
  EXPECT_EQ(out[2].payload, "4");
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_TRUE(ring.drain().empty());
  ring.push({"wse:u", "x", "e", true});
  out = ring.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].binary);
}

TEST(DeadLetterRing, DefaultCapacityIsTheSeedsThousand) {
  DeadLetterRing ring;
  EXPECT_EQ(ring.capacity(), 1000u);
  for (int i = 0; i < 1500; ++i) ring.push({"c", std::to_string(i), "e", false});
  auto out = ring.drain();
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out.front().payload, "500");
  EXPECT_EQ(out.back().payload, "1499");
}

TEST(DeadLetterRing, ConcurrentPushAndDrainLoseNothing) {
  DeadLetterRing ring(1'000'000);
  std::size_t drained = 0;
  std::thread producer([&] {
    for (int i = 0; i < 20000; ++i) ring.push({"c", "p", "e", false});
  });
  for (int i = 0; i < 200; ++i) drained += ring.drain().size();
  producer.join();
  drained += ring.drain().size();
  EXPECT_EQ(drained, 20000u);
}
