#pragma once
// Five-level message queue (10 CRITICAL, 8 HIGH, 5 NORMAL, 3 LOW, 1 BACKGROUND)
// with smart dropping when full and batch dequeue, highest level first and FIFO
// within a level. Any integer priority snaps to the nearest level (ties go to the
// higher level). Not thread-safe: the owner serialises access.
//
// When full, an arrival evicts the oldest message of the lowest non-empty level
// among BACKGROUND, LOW and NORMAL (whatever the arrival's own level: the seed's
// rule, and what WSE 1.4.2 did); when only HIGH and CRITICAL messages are queued
// the arrival is refused instead. HIGH and CRITICAL messages are never evicted.
// Every eviction counts as a drop of the evicted level, a refusal as a drop of
// the arrival's level.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace wse::util {

inline constexpr std::array<int, 5> kPriorityLevels = {10, 8, 5, 3, 1};

// Index into kPriorityLevels of the level nearest to `priority`.
inline std::size_t priority_level_index(std::int64_t priority) noexcept {
  std::size_t best = 0;
  std::int64_t best_distance = INT64_MAX;
  for (std::size_t i = 0; i < kPriorityLevels.size(); ++i) {
    const std::int64_t d =
        priority > kPriorityLevels[i] ? priority - kPriorityLevels[i] : kPriorityLevels[i] - priority;
    if (d < best_distance) {  // strict: ties keep the earlier (higher) level
      best = i;
      best_distance = d;
    }
  }
  return best;
}

template <class T>
class PriorityMessageQueue {
 public:
  struct Item {
    int priority;
    T value;
    double enqueued_at;  // caller's clock, seconds
  };

  PriorityMessageQueue(std::size_t max_size, std::size_t batch_size)
      : max_size_(max_size), batch_size_(batch_size) {}

  // True if accepted (possibly after evicting a lower message).
  bool enqueue(T value, std::int64_t priority, double now) {
    const std::size_t level = priority_level_index(priority);
    if (size_ >= max_size_) {
      std::optional<std::size_t> victim;
      for (std::size_t i = kPriorityLevels.size(); i-- > 2;) {  // BACKGROUND, LOW, NORMAL
        if (!levels_[i].empty()) {
          victim = i;
          break;
        }
      }
      if (!victim) {  // only HIGH and CRITICAL queued: they are never evicted
        ++dropped_[level];
        return false;
      }
      levels_[*victim].pop_front();
      ++dropped_[*victim];
      --size_;
    }
    levels_[level].push_back(Item{kPriorityLevels[level], std::move(value), now});
    ++size_;
    return true;
  }

  // Up to batch_size items, highest level first, FIFO within a level.
  std::vector<Item> dequeue_batch() {
    std::vector<Item> out;
    out.reserve(std::min(batch_size_, size_));
    for (auto& q : levels_) {
      while (!q.empty() && out.size() < batch_size_) {
        out.push_back(std::move(q.front()));
        q.pop_front();
        --size_;
      }
    }
    return out;
  }

  void clear() {
    for (auto& q : levels_) q.clear();
    size_ = 0;
    dropped_.fill(0);
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t max_size() const noexcept { return max_size_; }
  std::size_t batch_size() const noexcept { return batch_size_; }
  std::size_t depth(std::size_t level) const noexcept { return levels_[level].size(); }
  std::uint64_t dropped(std::size_t level) const noexcept { return dropped_[level]; }
  std::uint64_t total_dropped() const noexcept {
    std::uint64_t n = 0;
    for (auto d : dropped_) n += d;
    return n;
  }
  std::optional<double> oldest_enqueued_at() const noexcept {
    std::optional<double> oldest;
    for (const auto& q : levels_)
      if (!q.empty() && (!oldest || q.front().enqueued_at < *oldest)) oldest = q.front().enqueued_at;
    return oldest;
  }

 private:
  std::size_t max_size_;
  std::size_t batch_size_;
  std::size_t size_ = 0;
  std::array<std::deque<Item>, 5> levels_;
  std::array<std::uint64_t, 5> dropped_{};
};

}  // namespace wse::util
