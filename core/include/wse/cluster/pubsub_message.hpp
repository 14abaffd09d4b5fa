#pragma once
// What arrives on a subscribed Redis connection (RESP2): messages
// (message / pmessage / smessage), subscription confirmations
// ((p|s)(un)subscribe with the subscription count), and PING answers ("pong").
// Pure; thread-safe; the views point into the RespValue, which must outlive them.
#include <cstdint>
#include <optional>
#include <string_view>

#include "wse/cluster/resp_reader.hpp"

namespace wse::cluster {

enum class PushKind : std::uint8_t {
  Message,   // SUBSCRIBE delivery
  PMessage,  // PSUBSCRIBE delivery (pattern is set)
  SMessage,  // SSUBSCRIBE delivery (sharded pub/sub)
  Subscribe,
  Unsubscribe,
  PSubscribe,
  PUnsubscribe,
  SSubscribe,
  SUnsubscribe,
  Pong,
};

struct PushMessage {
  PushKind kind = PushKind::Message;
  std::string_view pattern;  // PMessage only
  std::string_view channel;  // the channel (or pattern, for (un)psubscribe); may be empty for unsubscribe
  std::string_view payload;  // messages only
  long long count = 0;       // confirmations: subscriptions left on the connection
};

bool is_delivery(PushKind k) noexcept;
// nullopt: not a pub/sub push (e.g. an error or a plain reply).
std::optional<PushMessage> classify_push(const RespValue& reply) noexcept;

}  // namespace wse::cluster
