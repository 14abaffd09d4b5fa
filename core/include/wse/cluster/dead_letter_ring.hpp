#pragma once
// The dead-letter queue: a ring of the last `capacity` publishes that could not
// be delivered to Redis (retries exhausted, breaker open, disconnected, queue
// full). The oldest entry is evicted when full, and evictions are counted.
//
// Thread-safety: every member may be called from any thread (the broker thread
// pushes, Python drains). One short mutex; size() is a lock-free read.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "wse/server/broker.hpp"

namespace wse::cluster {

class DeadLetterRing {
 public:
  explicit DeadLetterRing(std::size_t capacity = 1000);

  void push(server::DeadLetter entry);
  // Removes and returns every entry, oldest first.
  std::vector<server::DeadLetter> drain();
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return slots_.size(); }
  std::uint64_t evicted() const noexcept { return evicted_.load(std::memory_order_relaxed); }
  std::uint64_t total_pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::vector<server::DeadLetter> slots_;  // fixed size; [head_, head_ + size_) mod capacity is live
  std::size_t head_ = 0;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> evicted_{0};
  std::atomic<std::uint64_t> pushed_{0};
};

}  // namespace wse::cluster
