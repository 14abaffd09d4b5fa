#pragma once
// Sequencers. Not thread-safe: the owner serialises access (the binding relies
// on the GIL). Times are seconds of a monotonic clock, passed in.
//
// Sequencer: a counter (1, 2, ...) plus a sliding window of recently seen event
// ids for duplicate detection (oldest forgotten first).
//
// EventSequencer<T>: per-topic ordered delivery. For each topic it tracks the
// next expected sequence number:
//   first event of a topic       -> delivered, expected = seq + 1
//   seq == expected              -> delivered with the buffered events that now follow it
//   expected < seq <= expected+W -> buffered until the gap fills (W = max_out_of_order)
//   seq > expected + W           -> the gap is given up: buffered events are delivered
//                                   in order, then this one; the missing numbers count
//                                   as dropped and the topic continues from seq + 1
//   seq < expected, or already buffered -> rejected as old/duplicate (dropped)
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace wse::util {

class DedupWindow {
 public:
  explicit DedupWindow(std::size_t window) : window_(window) {}
  // True if `id` is in the window; records it otherwise.
  bool seen(const std::string& id, double now) {
    if (ids_.count(id) != 0) return true;
    ids_.insert(id);
    order_.emplace_back(id, now);
    while (order_.size() > window_) {
      ids_.erase(order_.front().first);
      order_.pop_front();
    }
    return false;
  }
  // Forgets ids recorded before `cutoff`.
  void forget_before(double cutoff) {
    while (!order_.empty() && order_.front().second < cutoff) {
      ids_.erase(order_.front().first);
      order_.pop_front();
    }
  }
  std::size_t size() const noexcept { return ids_.size(); }
  std::size_t window() const noexcept { return window_; }
  void clear() {
    ids_.clear();
    order_.clear();
  }

 private:
  std::size_t window_;
  std::unordered_set<std::string> ids_;
  std::deque<std::pair<std::string, double>> order_;
};

template <class T>
class EventSequencer {
 public:
  struct Buffered {
    T value;
    double received_at;
  };
  struct Topic {
    std::uint64_t expected = 0;
    std::map<std::uint64_t, Buffered> buffer;  // ordered by sequence
    double last_seen = 0;
  };

  explicit EventSequencer(std::uint64_t max_out_of_order) : max_out_of_order_(max_out_of_order) {}

  // Events to deliver now, in order; nullopt when the event was buffered or rejected.
  std::optional<std::vector<T>> process(const std::string& topic, std::uint64_t seq, T value, double now) {
    auto [it, fresh] = topics_.try_emplace(topic);
    Topic& t = it->second;
    t.last_seen = now;
    std::vector<T> out;
    if (fresh) {
      out.push_back(std::move(value));
      t.expected = seq + 1;
      return out;
    }
    if (seq < t.expected || t.buffer.count(seq) != 0) {
      ++dropped_;
      return std::nullopt;
    }
    if (seq == t.expected) {
      out.push_back(std::move(value));
      t.expected = seq + 1;
      drain_consecutive(t, out);
      return out;
    }
    if (seq - t.expected <= max_out_of_order_) {
      t.buffer.emplace(seq, Buffered{std::move(value), now});
      ++out_of_order_;
      return std::nullopt;
    }
    // Gap too large: give it up without losing what we hold.
    std::uint64_t delivered_between = 0;
    for (auto& [s, b] : t.buffer) {
      out.push_back(std::move(b.value));
      ++delivered_between;
    }
    dropped_ += (seq - t.expected) - delivered_between;
    t.buffer.clear();
    out.push_back(std::move(value));
    t.expected = seq + 1;
    return out;
  }

  // Drops buffered events older than max_age and forgets idle topics with an
  // empty buffer. Returns how many buffered events were dropped.
  std::size_t cleanup(double now, double max_age) {
    std::size_t n = 0;
    for (auto it = topics_.begin(); it != topics_.end();) {
      Topic& t = it->second;
      for (auto b = t.buffer.begin(); b != t.buffer.end();) {
        if (now - b->second.received_at > max_age) {
          b = t.buffer.erase(b);
          ++n;
        } else {
          ++b;
        }
      }
      if (t.buffer.empty() && now - t.last_seen > max_age) {
        it = topics_.erase(it);
      } else {
        ++it;
      }
    }
    dropped_ += n;
    return n;
  }

  void reset(const std::optional<std::string>& topic) {
    if (topic) {
      topics_.erase(*topic);
    } else {
      topics_.clear();
    }
  }

  const std::unordered_map<std::string, Topic>& topics() const noexcept { return topics_; }
  std::uint64_t dropped() const noexcept { return dropped_; }
  std::uint64_t out_of_order() const noexcept { return out_of_order_; }
  std::uint64_t max_out_of_order() const noexcept { return max_out_of_order_; }

 private:
  static void drain_consecutive(Topic& t, std::vector<T>& out) {
    while (!t.buffer.empty() && t.buffer.begin()->first == t.expected) {
      out.push_back(std::move(t.buffer.begin()->second.value));
      t.buffer.erase(t.buffer.begin());
      ++t.expected;
    }
  }
  std::uint64_t max_out_of_order_;
  std::unordered_map<std::string, Topic> topics_;
  std::uint64_t dropped_ = 0;
  std::uint64_t out_of_order_ = 0;
};

}  // namespace wse::util
