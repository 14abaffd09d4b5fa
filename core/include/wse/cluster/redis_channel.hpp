#pragma once
// How topics map to Redis channels (docs/PROTOCOL.md, "Redis"). Pure; thread-safe.
//
//   topic "user:1:events"     -> channel "wse:user:1:events"  (SUBSCRIBE / SSUBSCRIBE, PUBLISH / SPUBLISH)
//   glob  "user:*:events"     -> pattern "wse:user:*:events"  (PSUBSCRIBE, standalone Redis)
//                             -> channel "wse:user:*:events"  (SSUBSCRIBE, cluster pattern lane)
//   compatibility mode        -> pattern "wse:*"
//   cluster pattern registry  -> hash key and sharded channel "{wse}:patterns"
//
// Our globs know only '*' and '?'; Redis patterns also treat '[', ']' and '\'
// specially, so those are escaped with '\' in PSUBSCRIBE patterns.
#include <optional>
#include <string>
#include <string_view>

namespace wse::cluster {

inline constexpr std::string_view kChannelPrefix = "wse:";
inline constexpr std::string_view kCompatPattern = "wse:*";
inline constexpr std::string_view kRegistryKey = "{wse}:patterns";
inline constexpr std::string_view kRegistryChannel = "{wse}:patterns";

std::string channel_for(std::string_view topic);
// A PSUBSCRIBE pattern that matches exactly the channels of the topics `glob` matches.
std::string redis_pattern_for(std::string_view glob);
// The topic named by a channel; nullopt when the channel is not ours.
std::optional<std::string_view> topic_of(std::string_view channel) noexcept;

}  // namespace wse::cluster
