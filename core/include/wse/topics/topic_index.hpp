#pragma once
// Topic -> subscribers index of one I/O shard. Exact topics live in a hash map;
// glob patterns ('*', '?', see wse/util/glob.hpp) in a list scanned per publish,
// with a bounded cache of topic -> matching patterns so a hot topic costs one
// lookup. A subscriber that matches through several entries is visited once per
// publish (the caller's `visit` gets a fresh epoch to stamp it with).
//
// Thread-safety: none. Each shard owns its index and touches it only from its
// own thread, which is why delivery needs no lock.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wse/util/glob.hpp"

namespace wse::topics {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Sub>
class TopicIndex {
 public:
  // Returns true if newly added.
  bool add(std::string_view topic, Sub* sub) {
    auto& subs = util::is_glob(topic) ? pattern_subs(topic) : exact_subs(topic);
    if (std::find(subs.begin(), subs.end(), sub) != subs.end()) return false;
    subs.push_back(sub);
    return true;
  }

  bool remove(std::string_view topic, Sub* sub) {
    if (util::is_glob(topic)) {
      for (std::size_t i = 0; i < patterns_.size(); ++i) {
        if (patterns_[i].pattern != topic) continue;
        const bool removed = erase_from(patterns_[i].subs, sub);
        if (patterns_[i].subs.empty()) {
          patterns_.erase(patterns_.begin() + static_cast<std::ptrdiff_t>(i));
          cache_.clear();
        }
        return removed;
      }
      return false;
    }
    auto it = exact_.find(topic);
    if (it == exact_.end()) return false;
    const bool removed = erase_from(it->second, sub);
    if (it->second.empty()) exact_.erase(it);
    return removed;
  }

  // Calls visit(sub) once per subscriber matching `topic`. With patterns in
  // play, duplicates are filtered through `seen(sub)` (returns true if the sub
  // was already visited during this publish); exact-only topics skip that check.
  template <class Visit, class Seen>
  std::size_t for_each(std::string_view topic, Visit&& visit, Seen&& seen) {
    std::size_t n = 0;
    auto it = exact_.find(topic);
    const bool exact_hit = it != exact_.end();
    const std::vector<std::size_t>& matching = patterns_.empty() ? kNone : matching_patterns(topic);
    if (matching.empty()) {
      if (exact_hit)
        for (Sub* s : it->second) {
          visit(s);
          ++n;
        }
      return n;
    }
    if (exact_hit)
      for (Sub* s : it->second)
        if (!seen(s)) {
          visit(s);
          ++n;
        }
    for (std::size_t idx : matching)
      for (Sub* s : patterns_[idx].subs)
        if (!seen(s)) {
          visit(s);
          ++n;
        }
    return n;
  }

  std::size_t exact_count(std::string_view topic) const {
    auto it = exact_.find(topic);
    return it == exact_.end() ? 0 : it->second.size();
  }
  std::size_t topic_count() const noexcept { return exact_.size() + patterns_.size(); }
  bool empty() const noexcept { return exact_.empty() && patterns_.empty(); }

 private:
  struct Pattern {
    std::string pattern;
    std::vector<Sub*> subs;
  };
  static constexpr std::size_t kCacheLimit = 4096;  // topics remembered with their matching patterns
  static inline const std::vector<std::size_t> kNone{};

  static bool erase_from(std::vector<Sub*>& subs, Sub* sub) {
    auto it = std::find(subs.begin(), subs.end(), sub);
    if (it == subs.end()) return false;
    *it = subs.back();  // order among subscribers carries no meaning
    subs.pop_back();
    return true;
  }

  std::vector<Sub*>& exact_subs(std::string_view topic) {
    auto it = exact_.find(topic);
    if (it == exact_.end()) it = exact_.emplace(std::string(topic), std::vector<Sub*>{}).first;
    return it->second;
  }

  std::vector<Sub*>& pattern_subs(std::string_view pattern) {
    for (auto& p : patterns_)
      if (p.pattern == pattern) return p.subs;
    cache_.clear();  // a new pattern may match cached topics
    patterns_.push_back(Pattern{std::string(pattern), {}});
    return patterns_.back().subs;
  }

  const std::vector<std::size_t>& matching_patterns(std::string_view topic) {
    auto it = cache_.find(topic);
    if (it != cache_.end()) return it->second;
    if (cache_.size() >= kCacheLimit) cache_.clear();
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < patterns_.size(); ++i)
      if (util::glob_match(patterns_[i].pattern, topic)) hits.push_back(i);
    return cache_.emplace(std::string(topic), std::move(hits)).first->second;
  }

  std::unordered_map<std::string, std::vector<Sub*>, StringHash, std::equal_to<>> exact_;
  std::vector<Pattern> patterns_;
  std::unordered_map<std::string, std::vector<std::size_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace wse::topics
