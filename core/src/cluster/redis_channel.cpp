#include "wse/cluster/redis_channel.hpp"

namespace wse::cluster {

std::string channel_for(std::string_view topic) {
  std::string out;
  out.reserve(kChannelPrefix.size() + topic.size());
  out.append(kChannelPrefix).append(topic);
  return out;
}

std::string redis_pattern_for(std::string_view glob) {
  std::string out(kChannelPrefix);
  for (char c : glob) {
    if (c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::optional<std::string_view> topic_of(std::string_view channel) noexcept {
  if (!channel.starts_with(kChannelPrefix) || channel.size() == kChannelPrefix.size()) return std::nullopt;
  return channel.substr(kChannelPrefix.size());
}

}  // namespace wse::cluster
