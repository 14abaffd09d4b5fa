#pragma once
// Receive-side exactly-once bookkeeping for messages that carry a WSE header
// (wse/cluster/message_header.hpp). Two mechanisms:
//
//  1. Per (publisher, source) sequence: a publisher writes to one Redis node
//     over one connection in sequence order, so everything it sends reaches a
//     subscriber connection to that node in increasing `seq`. A `seq` not above
//     the last one seen from that source is a copy: the same message matched
//     several subscriptions of the connection (SUBSCRIBE + PSUBSCRIBE), or a
//     publish retried after a connection loss that Redis had in fact executed.
//  2. Multi-copy messages (cluster pattern lanes): a publisher sends one copy
//     per matching channel, possibly to different nodes, so copies reach us on
//     different connections in any order. The first copy is delivered and
//     remembered with the number of further copies we expect; the entry goes
//     when they have all arrived, or after `copy_ttl`.
//
// Memory is bounded: idle publishers and old copy entries are expired, and
// both tables have a size cap (oldest evicted first).
// Not thread-safe: owned by the broker thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>

namespace wse::cluster {

struct DuplicateFilterLimits {
  std::size_t max_sources = 65536;  // (publisher, source) pairs remembered
  std::size_t max_copies = 262144;  // multi-copy messages awaiting further copies
  std::chrono::milliseconds source_idle{std::chrono::minutes(10)};
  std::chrono::milliseconds copy_ttl{std::chrono::seconds(10)};
};

class DuplicateFilter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit DuplicateFilter(DuplicateFilterLimits limits = {}) : limits_(limits) {}

  // Mechanism 1: true if `seq` is above everything seen from (publisher, source); records it.
  bool fresh(std::uint64_t publisher, std::uint32_t source, std::uint64_t seq, Clock::time_point now);
  // Mechanism 2: true for the first copy of (publisher, seq), which is then
  // remembered until `expected_more` further copies have been seen.
  bool first_copy(std::uint64_t publisher, std::uint64_t seq, std::uint32_t expected_more,
                  Clock::time_point now);
  // Forget a source (its node left the cluster).
  void forget_source(std::uint32_t source);
  // Drops expired entries; call periodically.
  void expire(Clock::time_point now);

  std::size_t sources() const noexcept { return last_.size(); }
  std::size_t pending_copies() const noexcept { return copies_.size(); }
  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  struct Key {
    std::uint64_t publisher;
    std::uint64_t other;  // source, or seq
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.publisher * 0x9E3779B97F4A7C15ull ^
                                      (k.other + 0x632BE59BD9B4E019ull));
    }
  };
  struct Last {
    std::uint64_t seq;
    Clock::time_point seen;
  };
  struct Copies {
    std::uint32_t remaining;
    Clock::time_point first_seen;
  };

  DuplicateFilterLimits limits_;
  std::unordered_map<Key, Last, KeyHash> last_;
  std::unordered_map<Key, Copies, KeyHash> copies_;
  std::deque<std::pair<Key, Clock::time_point>> copy_order_;  // insertion order, for expiry and the cap
  std::uint64_t evictions_ = 0;
};

// Raw messages (no header) on a standalone subscriber connection. Redis writes
// all notifications of one PUBLISH to a connection back to back (the `message`
// for a matching SUBSCRIBE, then one `pmessage` per matching PSUBSCRIBE), and
// the subscription set a connection had when a message was published is known
// exactly from the confirmations read before it. So the copies of a raw message
// are the next `expected - 1` notifications for the same channel.
class RawCopyCounter {
 public:
  // `expected`: notifications Redis sends for this channel given the confirmed
  // subscriptions. True if this notification is the first of its group.
  bool first(std::string_view channel, std::uint32_t expected);
  // A framed message or a confirmation came in: any group is over.
  void reset() noexcept { remaining_ = 0; }
  std::uint64_t mismatches() const noexcept { return mismatches_; }

 private:
  std::string channel_;
  std::uint32_t remaining_ = 0;
  std::uint64_t mismatches_ = 0;
};

}  // namespace wse::cluster
