#include "wse/cluster/dead_letter_ring.hpp"

#include "wse/util/errors.hpp"

namespace wse::cluster {

DeadLetterRing::DeadLetterRing(std::size_t capacity) {
  if (capacity == 0) throw InvalidArgument("dead-letter capacity must be at least 1");
  slots_.resize(capacity);
}

void DeadLetterRing::push(server::DeadLetter entry) {
  std::lock_guard lock(mu_);
  const std::size_t n = size_.load(std::memory_order_relaxed);
  pushed_.fetch_add(1, std::memory_order_relaxed);
  if (n == slots_.size()) {
    slots_[head_] = std::move(entry);  // overwrite the oldest
    head_ = (head_ + 1) % slots_.size();
    evicted_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  slots_[(head_ + n) % slots_.size()] = std::move(entry);
  size_.store(n + 1, std::memory_order_relaxed);
}

std::vector<server::DeadLetter> DeadLetterRing::drain() {
  std::lock_guard lock(mu_);
  const std::size_t n = size_.load(std::memory_order_relaxed);
  std::vector<server::DeadLetter> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& slot = slots_[(head_ + i) % slots_.size()];
    out.push_back(std::move(slot));
    slot = {};
  }
  head_ = 0;
  size_.store(0, std::memory_order_relaxed);
  return out;
}

}  // namespace wse::cluster
