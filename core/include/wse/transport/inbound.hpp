#pragma once
// What the I/O threads hand to the application: connection lifecycle and
// inbound messages, through one bounded multi-producer queue that Python drains
// in batches (one GIL acquisition per batch).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "wse/transport/inbound_batch.hpp"
#include "wse/util/uuid.hpp"

namespace wse::transport {

// A one-byte lock for per-connection bookkeeping that is held for a few
// instructions and rarely contended (a std::mutex would cost 40 bytes per
// connection, which matters at 100k idle connections). Satisfies BasicLockable.
class TinyLock {
 public:
  void lock() noexcept {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

// One accepted WebSocket connection as the rest of the server sees it. Shared
// between the owning I/O shard (which writes) and the Python-facing registry.
// Topics of one connection; allocates only once the connection has a topic.
class TopicSet {
 public:
  bool insert(const std::string& topic) {
    if (!set_) set_ = std::make_unique<std::unordered_set<std::string>>();
    return set_->insert(topic).second;
  }
  std::size_t erase(const std::string& topic) { return set_ ? set_->erase(topic) : 0; }
  void clear() noexcept { set_.reset(); }
  bool empty() const noexcept { return !set_ || set_->empty(); }
  std::vector<std::string> list() const {
    return set_ ? std::vector<std::string>(set_->begin(), set_->end()) : std::vector<std::string>{};
  }

 private:
  std::unique_ptr<std::unordered_set<std::string>> set_;
};

struct ConnInfo {
  util::UuidText uuid{};  // UUIDv7 text, the conn_id of the Python API (inline: no allocation)
  std::string_view id() const noexcept { return {uuid.data(), uuid.size()}; }
  std::string user_id;  // JWT `sub`; empty when the server runs without JWT
  std::uint32_t shard = 0;
  std::uint64_t serial = 0;                // key in the shard's connection table
  bool msgpack = false;                    // ?format=msgpack
  bool compression = true;                 // false with ?compression=false
  std::atomic<std::uint64_t> next_seq{1};  // server_ready used 0
  std::atomic<bool> open{true};

  // Guards `topics` and the send_event dedup window (taken by Python threads
  // and by the shard on client-initiated subscriptions; never during I/O).
  TinyLock mu;
  TopicSet topics;
  struct SentIds {
    std::unordered_set<std::string> ids;
    std::deque<std::string> order;
  };
  std::unique_ptr<SentIds> sent;  // allocated on the first send_event with an id
  static constexpr std::size_t kDedupWindow = 1000;

  // True if `id` was already sent to this connection; records it otherwise.
  bool seen_before(const std::string& event_id);
};

// A run of events taken off the queue: [first, last) of one batch.
struct InboundSlice {
  std::shared_ptr<const InboundBatch> batch;
  std::size_t first = 0;
  std::size_t last = 0;
};

// Bounded MPSC queue of event batches. Data events beyond the capacity are
// dropped and counted; lifecycle events (connect/disconnect) are always kept, so
// the application never misses one (they are bounded by max_connections anyway).
// The capacity counts events, whatever batches they came in.
//
// Thread-safety: every member is safe to call from any thread; push and pop take
// one short lock each (per batch and per drain, not per event).
class InboundQueue {
 public:
  explicit InboundQueue(std::size_t capacity) : capacity_(capacity) {}

  // Takes the batch (sealing it), dropping the data events that do not fit.
  // Returns how many were dropped.
  std::size_t push(std::unique_ptr<InboundBatch> batch);
  // Waits up to `timeout` for a first event (forever if negative), then takes up
  // to `max_count` without waiting, appending one slice per batch touched.
  // Returns the number of events taken; returns early (possibly 0) after close().
  std::size_t pop(std::vector<InboundSlice>& out, std::size_t max_count, std::chrono::milliseconds timeout);
  void close();  // wakes waiters; later pops return what is left, without waiting
  void reopen();
  std::size_t depth() const;
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t total_drained() const noexcept { return drained_.load(std::memory_order_relaxed); }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const InboundBatch>> batches_;
  std::size_t front_taken_ = 0;  // events of batches_.front() already popped
  std::size_t count_ = 0;        // events waiting
  bool closed_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> drained_{0};
};

}  // namespace wse::transport
