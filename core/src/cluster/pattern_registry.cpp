#include "wse/cluster/pattern_registry.hpp"

#include <algorithm>
#include <charconv>

#include "wse/util/glob.hpp"

namespace wse::cluster {

std::string encode_registry_entry(const RegistryEntry& entry) {
  std::string out = "wse1:" + std::to_string(entry.expires_unix_ms) + ":";
  for (const auto& p : entry.patterns) {
    out += std::to_string(p.size());
    out.push_back(':');
    out += p;
  }
  return out;
}

std::optional<RegistryEntry> decode_registry_entry(std::string_view text) {
  if (!text.starts_with("wse1:")) return std::nullopt;
  text.remove_prefix(5);
  RegistryEntry entry;
  auto read_number = [&](std::int64_t& value) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + colon, value);
    if (ec != std::errc() || p != text.data() + colon || value < 0) return false;
    text.remove_prefix(colon + 1);
    return true;
  };
  if (!read_number(entry.expires_unix_ms)) return std::nullopt;
  while (!text.empty()) {
    std::int64_t n = 0;
    if (!read_number(n) || n == 0 || static_cast<std::uint64_t>(n) > text.size()) return std::nullopt;
    entry.patterns.emplace_back(text.substr(0, static_cast<std::size_t>(n)));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return entry;
}

void PatternSet::replace(std::vector<std::string> patterns) {
  std::sort(patterns.begin(), patterns.end());
  patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
  if (patterns == patterns_) return;
  patterns_ = std::move(patterns);
  cache_.clear();
}

const std::vector<std::string>& PatternSet::matching(std::string_view topic) {
  auto it = cache_.find(topic);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= kCacheLimit) cache_.clear();
  std::vector<std::string> hits;
  for (const auto& p : patterns_)
    if (util::glob_match(p, topic)) hits.push_back(p);
  return cache_.emplace(std::string(topic), std::move(hits)).first->second;
}

}  // namespace wse::cluster
