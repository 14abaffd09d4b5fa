#include "wse/transport/inbound.hpp"

#include <algorithm>

namespace wse::transport {

bool ConnInfo::seen_before(const std::string& event_id) {
  std::lock_guard lock(mu);
  if (!sent) sent = std::make_unique<SentIds>();
  if (!sent->ids.insert(event_id).second) return true;
  sent->order.push_back(event_id);
  if (sent->order.size() > kDedupWindow) {
    sent->ids.erase(sent->order.front());
    sent->order.pop_front();
  }
  return false;
}

std::size_t InboundQueue::push(std::unique_ptr<InboundBatch> batch) {
  if (!batch || batch->empty()) return 0;
  batch->seal();
  std::size_t dropped = 0;
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = count_ == 0;
    if (count_ + batch->size() > capacity_) {
      // Compacting under the lock is the overload path only; it keeps the order
      // of events exact (a data event is kept iff the queue had room for it).
      dropped = batch->keep_data(capacity_ > count_ ? capacity_ - count_ : 0);
    }
    if (!batch->empty()) {
      count_ += batch->size();
      batches_.push_back(std::move(batch));
    }
  }
  if (dropped != 0) dropped_.fetch_add(dropped, std::memory_order_relaxed);
  if (was_empty) cv_.notify_all();
  return dropped;
}

std::size_t InboundQueue::pop(std::vector<InboundSlice>& out, std::size_t max_count,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (count_ == 0 && !closed_ && timeout.count() != 0) {
    if (timeout.count() < 0) {
      cv_.wait(lock, [&] { return count_ != 0 || closed_; });
    } else {
      cv_.wait_for(lock, timeout, [&] { return count_ != 0 || closed_; });
    }
  }
  std::size_t n = 0;
  while (n < max_count && !batches_.empty()) {
    const std::shared_ptr<const InboundBatch>& front = batches_.front();
    const std::size_t first = front_taken_;
    const std::size_t last = std::min(front->size(), first + (max_count - n));
    n += last - first;
    if (last == front->size()) {
      out.push_back(InboundSlice{std::move(batches_.front()), first, last});
      batches_.pop_front();
      front_taken_ = 0;
    } else {
      out.push_back(InboundSlice{front, first, last});
      front_taken_ = last;
    }
  }
  count_ -= n;
  drained_.fetch_add(n, std::memory_order_relaxed);  // counts drained events
  return n;
}

void InboundQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void InboundQueue::reopen() {
  std::lock_guard lock(mu_);
  closed_ = false;
}

std::size_t InboundQueue::depth() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace wse::transport
