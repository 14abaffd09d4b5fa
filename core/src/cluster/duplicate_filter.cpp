#include "wse/cluster/duplicate_filter.hpp"

namespace wse::cluster {

bool DuplicateFilter::fresh(std::uint64_t publisher, std::uint32_t source, std::uint64_t seq,
                            Clock::time_point now) {
  const Key key{publisher, source};
  auto it = last_.find(key);
  if (it == last_.end()) {
    if (last_.size() >= limits_.max_sources) {
      // Evict the idlest entry: rare (the cap is far above any real fleet), so a scan is fine.
      auto idlest = last_.begin();
      for (auto i = last_.begin(); i != last_.end(); ++i)
        if (i->second.seen < idlest->second.seen) idlest = i;
      last_.erase(idlest);
      ++evictions_;
    }
    last_.emplace(key, Last{seq, now});
    return true;
  }
  it->second.seen = now;
  if (seq <= it->second.seq) return false;
  it->second.seq = seq;
  return true;
}

bool DuplicateFilter::first_copy(std::uint64_t publisher, std::uint64_t seq, std::uint32_t expected_more,
                                 Clock::time_point now) {
  const Key key{publisher, seq};
  auto it = copies_.find(key);
  if (it != copies_.end()) {
    if (it->second.remaining <= 1) {
      copies_.erase(it);  // its copy_order_ entry is skipped when it comes up
    } else {
      --it->second.remaining;
    }
    return false;
  }
  if (expected_more == 0) return true;
  // The order deque also holds slots of entries already completed; bound it too.
  while ((copies_.size() >= limits_.max_copies || copy_order_.size() >= 2 * limits_.max_copies) &&
         !copy_order_.empty()) {
    const auto [old_key, when] = copy_order_.front();
    copy_order_.pop_front();
    auto old = copies_.find(old_key);
    if (old != copies_.end() && old->second.first_seen == when) {
      copies_.erase(old);
      ++evictions_;
    }
  }
  copies_.emplace(key, Copies{expected_more, now});
  copy_order_.emplace_back(key, now);
  return true;
}

void DuplicateFilter::forget_source(std::uint32_t source) {
  for (auto it = last_.begin(); it != last_.end();) {
    if (it->first.other == source) {
      it = last_.erase(it);
    } else {
      ++it;
    }
  }
}

void DuplicateFilter::expire(Clock::time_point now) {
  while (!copy_order_.empty() && now - copy_order_.front().second >= limits_.copy_ttl) {
    const auto [key, when] = copy_order_.front();
    copy_order_.pop_front();
    auto it = copies_.find(key);
    if (it != copies_.end() && it->second.first_seen == when) copies_.erase(it);
  }
  // Entries whose copies all arrived are already gone from copies_; drop their order slots too.
  if (copies_.empty()) copy_order_.clear();
  for (auto it = last_.begin(); it != last_.end();) {
    if (now - it->second.seen >= limits_.source_idle) {
      it = last_.erase(it);
    } else {
      ++it;
    }
  }
}

bool RawCopyCounter::first(std::string_view channel, std::uint32_t expected) {
  if (remaining_ > 0) {
    if (channel == channel_) {
      --remaining_;
      return false;
    }
    // Redis never interleaves notifications of two publishes; seeing it means our
    // view of the subscriptions was off. Count it and start a new group.
    ++mismatches_;
    remaining_ = 0;
  }
  if (expected > 1) {
    channel_.assign(channel);
    remaining_ = expected - 1;
  }
  return true;
}

}  // namespace wse::cluster
