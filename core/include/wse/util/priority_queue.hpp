#pragma once
// Bounded priority queue: higher priority first, FIFO among equal priorities.
// Header-only template so the Python binding can store Python objects and the
// unit tests plain values. Not thread-safe: the owner serialises access (the
// binding relies on the GIL).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace wse::util {

template <class T>
class PriorityQueue {
 public:
  explicit PriorityQueue(std::size_t max_size) : max_size_(max_size) {}

  // False (and the value is not taken) when the queue is full.
  bool push(std::int64_t priority, T value) {
    if (heap_.size() >= max_size_) return false;
    heap_.push_back(Entry{priority, next_order_++, std::move(value)});
    std::push_heap(heap_.begin(), heap_.end(), Less{});
    return true;
  }

  std::optional<T> pop() {
    if (heap_.empty()) return std::nullopt;
    std::pop_heap(heap_.begin(), heap_.end(), Less{});
    T value = std::move(heap_.back().value);
    heap_.pop_back();
    return value;
  }

  std::size_t size() const noexcept { return heap_.size(); }
  std::size_t max_size() const noexcept { return max_size_; }
  bool empty() const noexcept { return heap_.empty(); }
  bool full() const noexcept { return heap_.size() >= max_size_; }
  void clear() noexcept { heap_.clear(); }

 private:
  struct Entry {
    std::int64_t priority;
    std::uint64_t order;  // insertion order, for FIFO among equals
    T value;
  };
  struct Less {  // max-heap on priority, then min on order
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return a.priority != b.priority ? a.priority < b.priority : a.order > b.order;
    }
  };
  std::size_t max_size_;
  std::uint64_t next_order_ = 0;
  std::vector<Entry> heap_;
};

}  // namespace wse::util
