#include "wse/transport/inbound.hpp"

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

std::size_t InboundQueue::push(std::vector<InboundEvent>& batch) {
  if (batch.empty()) return 0;
  std::size_t dropped = 0;
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = q_.empty();
    for (auto& ev : batch) {
      const bool lifecycle = ev.kind == InboundKind::AuthConnect || ev.kind == InboundKind::Connect ||
                             ev.kind == InboundKind::Disconnect;
      if (!lifecycle && q_.size() >= capacity_) {
        ++dropped;
        continue;
      }
      q_.push_back(std::move(ev));
    }
  }
  batch.clear();
  if (dropped != 0) dropped_.fetch_add(dropped, std::memory_order_relaxed);
  if (was_empty) cv_.notify_all();
  return dropped;
}

std::size_t InboundQueue::pop(std::vector<InboundEvent>& out, std::size_t max_count,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (q_.empty() && !closed_ && timeout.count() != 0) {
    if (timeout.count() < 0) {
      cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    } else {
      cv_.wait_for(lock, timeout, [&] { return !q_.empty() || closed_; });
    }
  }
  std::size_t n = 0;
  while (n < max_count && !q_.empty()) {
    out.push_back(std::move(q_.front()));
    q_.pop_front();
    ++n;
  }
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
  return q_.size();
}

}  // namespace wse::transport
