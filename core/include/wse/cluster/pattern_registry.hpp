#pragma once
// Glob patterns in Redis Cluster mode. Sharded pub/sub has no pattern
// subscriptions, so each instance announces its glob interests in the hash
// `{wse}:patterns` (field: the instance id, value: this encoding) and
// notifies the sharded channel of the same name. Publishers keep the union of
// all announced patterns and send one extra copy of a message to the channel
// `wse:<pattern>` of each pattern its topic matches (docs/PROTOCOL.md, "Redis").
// Pure; not thread-safe (owned by the broker thread).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wse::cluster {

struct RegistryEntry {
  std::int64_t expires_unix_ms = 0;
  std::vector<std::string> patterns;
};

// "wse1:<expires_ms>:" then "<len>:<bytes>" per pattern.
std::string encode_registry_entry(const RegistryEntry& entry);
std::optional<RegistryEntry> decode_registry_entry(std::string_view text);

// The cluster-wide pattern union with a bounded topic -> matching-patterns cache.
class PatternSet {
 public:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  void replace(std::vector<std::string> patterns);
  // Patterns that match `topic` (valid until the next replace()).
  const std::vector<std::string>& matching(std::string_view topic);
  const std::vector<std::string>& patterns() const noexcept { return patterns_; }
  bool empty() const noexcept { return patterns_.empty(); }

 private:
  static constexpr std::size_t kCacheLimit = 4096;
  std::vector<std::string> patterns_;  // sorted, unique
  std::unordered_map<std::string, std::vector<std::string>, Hash, std::equal_to<>> cache_;
};

}  // namespace wse::cluster
