#include "wse/cluster/pubsub_message.hpp"

namespace wse::cluster {

namespace {

struct KindName {
  std::string_view name;
  PushKind kind;
};

constexpr KindName kConfirmations[] = {
    {"subscribe", PushKind::Subscribe},   {"unsubscribe", PushKind::Unsubscribe},
    {"psubscribe", PushKind::PSubscribe}, {"punsubscribe", PushKind::PUnsubscribe},
    {"ssubscribe", PushKind::SSubscribe}, {"sunsubscribe", PushKind::SUnsubscribe},
};

bool is_text(const RespValue& v) noexcept { return v.type == RespType::String; }

}  // namespace

bool is_delivery(PushKind k) noexcept {
  return k == PushKind::Message || k == PushKind::PMessage || k == PushKind::SMessage;
}

std::optional<PushMessage> classify_push(const RespValue& reply) noexcept {
  if (!reply.is_array() || reply.elements.empty() || !is_text(reply.elements[0])) return std::nullopt;
  const auto& e = reply.elements;
  const std::string_view head = e[0].str;
  PushMessage m;
  if (head == "message" || head == "smessage") {
    if (e.size() != 3 || !is_text(e[1]) || !is_text(e[2])) return std::nullopt;
    m.kind = head == "message" ? PushKind::Message : PushKind::SMessage;
    m.channel = e[1].str;
    m.payload = e[2].str;
    return m;
  }
  if (head == "pmessage") {
    if (e.size() != 4 || !is_text(e[1]) || !is_text(e[2]) || !is_text(e[3])) return std::nullopt;
    m.kind = PushKind::PMessage;
    m.pattern = e[1].str;
    m.channel = e[2].str;
    m.payload = e[3].str;
    return m;
  }
  if (head == "pong") {
    m.kind = PushKind::Pong;
    return m;
  }
  for (const auto& c : kConfirmations) {
    if (head != c.name) continue;
    if (e.size() != 3 || e[2].type != RespType::Integer) return std::nullopt;
    if (is_text(e[1])) {
      m.channel = e[1].str;
    } else if (e[1].type != RespType::Nil) {
      return std::nullopt;
    }
    m.kind = c.kind;
    m.count = e[2].integer;
    return m;
  }
  return std::nullopt;
}

}  // namespace wse::cluster
