// BrokerCore, continued: where a publish goes (standalone, cluster slots,
// pattern lanes), the cluster topology and pattern registry, interest-driven
// subscriptions, and what happens to a message that arrives from Redis.
#include <algorithm>

#include "broker_core.hpp"
#include "wse/cluster/message_header.hpp"
#include "wse/cluster/redis_channel.hpp"
#include "wse/protocol/utf8.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/glob.hpp"

namespace wse::cluster {

namespace {

constexpr std::uint8_t kMaxRedirects = 5;  // MOVED/ASK followed for one publish before it is dead-lettered

PublishItem item_from(std::string topic, std::string payload, bool binary) {
  PublishItem item;
  item.channel = channel_for(topic);
  item.topic = std::move(topic);
  item.payload = std::move(payload);
  item.binary = binary;
  return item;
}

}  // namespace

// ---- mode and topology --------------------------------------------------------

bool BrokerCore::alive(const NodeLink* link) const noexcept {
  for (const auto& l : links_)
    if (l.get() == link) return true;
  return false;
}

NodeLink* BrokerCore::link_at(const NodeAddress& address) {
  for (auto& l : links_)
    if (l->address() == address) return l.get();
  return nullptr;
}

NodeLink* BrokerCore::link_for(std::string_view channel) {
  if (links_.empty() || mode_ == Mode::Unknown) return nullptr;
  if (mode_ == Mode::Standalone) return links_[0].get();
  const std::uint16_t owner = slot_owner_[key_slot(channel)];
  return owner == Topology::kNoOwner || owner >= links_.size() ? nullptr : links_[owner].get();
}

void BrokerCore::set_mode(Mode mode) {
  mode_ = mode;
  if (mode == Mode::Standalone) {
    nodes_.store(1, std::memory_order_relaxed);
    if (compat()) {
      links_[0]->desire(SubKind::Pattern, std::string(kCompatPattern), "*", true);
    } else {
      for (const auto& t : local_exact_) place(t, true);
      for (const auto& g : local_globs_) place(g, true);
    }
  } else {
    registry_wait_since_ = Clock::now();
    registry_get_wanted_ = true;
    // Globs subscribed before the mode was known were not announced yet.
    if (!compat() && !local_globs_.empty()) {
      own_dirty_ = true;
      recompute_fleet_patterns();
    }
  }
  update_health();
  flush_unrouted();
}

void BrokerCore::link_ready(NodeLink& link) {
  if (mode_ == Mode::Unknown) {
    if (!links_.empty() && &link == links_[0].get() && link.cmd_ready() && !detect_in_flight_ &&
        link.command(CmdKind::DetectSlots, {"CLUSTER", "SLOTS"})) {
      detect_in_flight_ = true;
      last_detect_ = Clock::now();
    }
    return;
  }
  if (cluster() && !compat() && link.cmd_ready() && &link == link_for(kRegistryKey)) {
    registry_get_wanted_ = true;  // reload after a reconnect: announcements may have been missed
    if (!local_globs_.empty()) own_dirty_ = true;
  }
}

void BrokerCore::send_refresh(Clock::time_point now) {
  if (links_.empty()) return;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    NodeLink& l = *links_[(refresh_rr_ + i) % links_.size()];
    if (l.command(CmdKind::RefreshSlots, {"CLUSTER", "SLOTS"})) {
      refresh_rr_ = (refresh_rr_ + i + 1) % links_.size();
      refresh_in_flight_ = true;
      refresh_wanted_ = false;
      refresh_sent_at_ = now;
      return;
    }
  }
}

void BrokerCore::request_refresh() {
  if (cluster()) refresh_wanted_ = true;
}

void BrokerCore::on_cmd_result(NodeLink& link, CmdKind kind, RespValue& reply) {
  const bool lost = reply.is_error() && reply.str == "connection lost";
  switch (kind) {
    case CmdKind::DetectSlots: {
      detect_in_flight_ = false;
      if (lost || mode_ != Mode::Unknown) return;
      if (reply.is_error()) {
        if (options_.mode == RedisMode::Cluster) {
          record_error("mode is 'cluster' but " + link.address().to_string() +
                       " answered CLUSTER SLOTS with: " + reply.str);
          return;  // retried by the tick
        }
        set_mode(Mode::Standalone);
        return;
      }
      auto topo = topology_from(reply, link);
      if (!topo) return;
      set_mode(Mode::Cluster);
      apply_topology(std::move(*topo));
      return;
    }
    case CmdKind::RefreshSlots: {
      refresh_in_flight_ = false;
      last_refresh_ = Clock::now();
      if (reply.is_error()) {
        if (!lost) record_error("CLUSTER SLOTS failed: " + reply.str);
        return;
      }
      auto topo = topology_from(reply, link);
      if (!topo) return;
      apply_topology(std::move(*topo));
      return;
    }
    case CmdKind::RegistryGet:
      registry_get_in_flight_ = false;
      if (reply.is_array()) {
        load_registry(reply);
        if (registry_get_wanted_) read_registry(Clock::now());  // changed again meanwhile
      } else if (lost) {
        registry_get_wanted_ = true;
        return;
      } else {
        record_error("HGETALL " + std::string(kRegistryKey) + " failed: " + reply.str);
      }
      registry_loaded_ = true;
      flush_unrouted();
      return;
    default:
      if (reply.is_error() && !lost) record_error(link.address().to_string() + ": " + reply.str);
      return;
  }
}

std::optional<Topology> BrokerCore::topology_from(const RespValue& reply, const NodeLink& link) {
  std::string why;
  auto topo = parse_cluster_slots(reply, link.address().host, &why);
  if (!topo || topo->masters.empty()) {
    record_error(topo ? "the cluster reports no masters" : why);
    return std::nullopt;
  }
  return topo;
}

void BrokerCore::apply_topology(Topology topo) {
  std::vector<std::unique_ptr<NodeLink>> next;
  for (const auto& m : topo.masters) {
    std::unique_ptr<NodeLink> link;
    for (auto& l : links_)
      if (l && l->address() == m) link = std::move(l);
    if (!link) {
      link = std::make_unique<NodeLink>(*this, m, source_for(m));
      link->start();
    }
    next.push_back(std::move(link));
  }
  std::vector<PublishItem> orphans;
  for (auto& l : links_) {
    if (!l) continue;
    l->shutdown(&orphans);
    retired_.push_back(std::move(l));
  }
  links_ = std::move(next);
  slot_owner_ = std::move(topo.owner);
  last_refresh_ = Clock::now();
  nodes_.store(links_.size(), std::memory_order_relaxed);
  rehome_subscriptions();
  for (auto& item : orphans) {
    item.seq = next_seq();  // it goes to another node: a new sequence for that stream
    route(std::move(item));
  }
  flush_unrouted();
}

void BrokerCore::rehome_subscriptions() {
  if (!cluster()) return;
  std::map<std::string, std::string> wanted;  // channel -> topic or glob
  if (!compat()) {
    for (const auto& t : local_exact_) wanted[channel_for(t)] = t;
    for (const auto& g : local_globs_) wanted[channel_for(g)] = g;
    wanted[std::string(kRegistryChannel)] = std::string();
  }
  for (auto it = placed_.begin(); it != placed_.end();) {
    if (wanted.count(it->first) == 0) {
      if (alive(it->second)) it->second->desire(SubKind::Sharded, it->first, {}, false);
      it = placed_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [channel, topic] : wanted) {
    NodeLink* link = link_for(channel);
    auto it = placed_.find(channel);
    if (it != placed_.end() && it->second == link) continue;
    if (it != placed_.end() && alive(it->second)) it->second->desire(SubKind::Sharded, channel, topic, false);
    if (link == nullptr) {
      if (it != placed_.end()) placed_.erase(it);
      request_refresh();
      continue;
    }
    link->desire(SubKind::Sharded, channel, topic, true);
    placed_[channel] = link;
  }
}

// ---- interest ---------------------------------------------------------------------

void BrokerCore::apply_interest(const std::string& topic, bool added) {
  if (util::is_glob(topic)) {
    if (added) {
      local_globs_.insert(topic);
    } else {
      local_globs_.erase(topic);
    }
    local_patterns_.replace(std::vector<std::string>(local_globs_.begin(), local_globs_.end()));
    if (cluster() && !compat()) {
      own_dirty_ = true;
      recompute_fleet_patterns();
    }
  } else if (added) {
    local_exact_.insert(topic);
  } else {
    local_exact_.erase(topic);
  }
  if (!compat()) place(topic, added);
}

void BrokerCore::place(const std::string& topic, bool want) {
  if (mode_ == Mode::Standalone) {
    const bool glob = util::is_glob(topic);
    links_[0]->desire(glob ? SubKind::Pattern : SubKind::Channel,
                      glob ? redis_pattern_for(topic) : channel_for(topic), topic, want);
    return;
  }
  if (mode_ != Mode::Cluster) return;  // placed when the mode is known
  const std::string channel = channel_for(topic);
  auto it = placed_.find(channel);
  if (!want) {
    if (it != placed_.end()) {
      if (alive(it->second)) it->second->desire(SubKind::Sharded, channel, topic, false);
      placed_.erase(it);
    }
    return;
  }
  NodeLink* link = link_for(channel);
  if (link == nullptr) {
    request_refresh();  // placed by rehome_subscriptions() once a node serves the slot
    return;
  }
  link->desire(SubKind::Sharded, channel, topic, true);
  placed_[channel] = link;
}

bool BrokerCore::locally_wanted(std::string_view topic) {
  return local_exact_.find(topic) != local_exact_.end() || !local_patterns_.matching(topic).empty();
}

// ---- publishing -------------------------------------------------------------------

void BrokerCore::route_new(Incoming&& in) {
  if (mode_ == Mode::Unknown || (cluster() && !compat() && !registry_loaded_)) {
    held_.push_back(std::move(in));
    return;
  }
  PublishItem item = item_from(std::move(in.topic), std::move(in.payload), in.binary);
  item.seq = next_seq();
  if (cluster() && !compat()) {
    const std::vector<std::string>& lanes = fleet_patterns_.matching(item.topic);
    if (!lanes.empty()) {
      item.multi = true;
      item.message_id = item.seq;
      for (const auto& pattern : lanes) {
        PublishItem c;
        c.topic = item.topic;
        c.payload = item.payload;
        c.channel = channel_for(pattern);
        c.binary = item.binary;
        c.copy = true;
        c.multi = true;
        c.seq = item.seq;  // same sequence: a connection that gets two copies drops the second
        c.message_id = item.seq;
        route(std::move(c));
      }
    }
  }
  route(std::move(item));
}

void BrokerCore::route(PublishItem&& item) {
  NodeLink* link = link_for(item.channel);
  if (link == nullptr) {
    item.due = Clock::now();
    unrouted_.push_back(std::move(item));
    request_refresh();
    return;
  }
  link->enqueue(std::move(item));
}

void BrokerCore::flush_unrouted() {
  if (mode_ == Mode::Unknown) return;
  if (!held_.empty() && !(cluster() && !compat() && !registry_loaded_)) {
    std::deque<Incoming> held;
    held.swap(held_);
    for (auto& in : held) route_new(std::move(in));
  }
  if (!unrouted_.empty()) {
    std::deque<PublishItem> waiting;
    waiting.swap(unrouted_);
    for (auto& item : waiting) {
      NodeLink* link = link_for(item.channel);
      if (link == nullptr) {
        unrouted_.push_back(std::move(item));
      } else {
        link->enqueue(std::move(item));
      }
    }
  }
}

void BrokerCore::redirect(NodeLink& from, PublishItem&& item, const Redirect& where) {
  (void)from;
  if (++item.redirects > kMaxRedirects) {
    dead_letter(std::move(item), "too many MOVED/ASK redirections for slot " + std::to_string(where.slot));
    return;
  }
  NodeLink* target = link_at(where.node);
  if (target == nullptr) {
    links_.push_back(std::make_unique<NodeLink>(*this, where.node, source_for(where.node)));
    target = links_.back().get();
    target->start();
  }
  if (!where.ask) {
    for (std::size_t i = 0; i < links_.size(); ++i)
      if (links_[i].get() == target) slot_owner_[where.slot] = static_cast<std::uint16_t>(i);
  }
  request_refresh();
  item.seq = next_seq();  // Redis did not execute it: a new sequence on the new node's stream
  target->enqueue(std::move(item));
}

// ---- cluster pattern registry -------------------------------------------------------

void BrokerCore::recompute_fleet_patterns() {
  std::vector<std::string> all(local_globs_.begin(), local_globs_.end());
  for (const auto& [id, entry] : fleet_) all.insert(all.end(), entry.patterns.begin(), entry.patterns.end());
  fleet_patterns_.replace(std::move(all));
  cluster_patterns_.store(fleet_patterns_.patterns().size(), std::memory_order_relaxed);
}

void BrokerCore::announce_patterns(Clock::time_point now) {
  if (!cluster() || compat()) {
    own_dirty_ = false;
    return;
  }
  NodeLink* reg = link_for(kRegistryKey);
  if (reg == nullptr || !reg->cmd_ready()) return;  // retried by the tick (own_dirty_ stays set)
  const std::string id = own_id();
  if (local_globs_.empty()) {
    if (announced_) {
      reg->command(CmdKind::Other, {"HDEL", kRegistryKey, id});
      reg->command(CmdKind::Other, {"SPUBLISH", kRegistryChannel, id});
    }
    announced_ = false;
  } else {
    RegistryEntry entry;
    entry.expires_unix_ms = util::unix_ms() + options_.registry_ttl.count();
    entry.patterns.assign(local_globs_.begin(), local_globs_.end());
    reg->command(CmdKind::Other, {"HSET", kRegistryKey, id, encode_registry_entry(entry)});
    // Heartbeats only refresh the expiry; changes are announced so publishers reload now.
    if (own_dirty_ || !announced_) reg->command(CmdKind::Other, {"SPUBLISH", kRegistryChannel, id});
    announced_ = true;
  }
  own_dirty_ = false;
  last_announce_ = now;
}

void BrokerCore::read_registry(Clock::time_point now) {
  registry_get_wanted_ = true;
  if (registry_get_in_flight_) return;  // the answer in flight may predate the change: the flag stays
  NodeLink* reg = link_for(kRegistryKey);
  if (reg != nullptr && reg->command(CmdKind::RegistryGet, {"HGETALL", kRegistryKey})) {
    registry_get_in_flight_ = true;
    registry_get_wanted_ = false;
    registry_sent_at_ = now;
    last_registry_get_ = now;
  }
}

void BrokerCore::load_registry(const RespValue& reply) {
  const std::string me = own_id();
  const std::int64_t now_ms = util::unix_ms();
  fleet_.clear();
  NodeLink* reg = link_for(kRegistryKey);
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string_view field = reply.elements[i].text();
    if (field.empty() || field == me) continue;
    auto entry = decode_registry_entry(reply.elements[i + 1].text());
    if (!entry) continue;
    if (entry->expires_unix_ms < now_ms) {
      // An instance that stopped without unannouncing: clean up after it.
      if (reg != nullptr) reg->command(CmdKind::Other, {"HDEL", kRegistryKey, field});
      continue;
    }
    fleet_.emplace(std::string(field), std::move(*entry));
  }
  recompute_fleet_patterns();
}

// ---- receiving --------------------------------------------------------------------

void BrokerCore::on_delivery(NodeLink& link, const PushMessage& msg) {
  if (msg.kind == PushKind::SMessage && msg.channel == kRegistryChannel) {
    if (msg.payload != own_id()) read_registry(Clock::now());  // a fleet member changed its globs
    return;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  const ParsedPayload parsed = parse_message(msg.payload);
  if (parsed.kind == HeaderParse::Malformed) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    record_error("dropped a message with a malformed WSE header on " + std::string(msg.channel));
    return;
  }
  auto duplicate = [this] {
    duplicates_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  };
  std::string_view topic;
  bool binary = false;
  if (parsed.kind == HeaderParse::Framed) {
    link.raw_counter_.reset();
    const MessageHeader& h = parsed.header;
    topic = !h.topic.empty() ? h.topic : topic_of(msg.channel).value_or(std::string_view{});
    if (topic.empty()) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto now = Clock::now();
    if (!filter_.fresh(h.publisher, link.source(), h.seq, now)) {
      if (h.multi_copy) filter_.first_copy(h.publisher, h.message_id, 0, now);
      duplicate();
      return;
    }
    if (h.multi_copy) {
      // Copies we get: the exact channel if we want the topic, plus one per local pattern that matches.
      const std::size_t copies =
          (local_exact_.find(topic) != local_exact_.end() ? 1 : 0) + local_patterns_.matching(topic).size();
      const auto more = static_cast<std::uint32_t>(copies > 0 ? copies - 1 : 0);
      if (!filter_.first_copy(h.publisher, h.message_id, more, now)) {
        duplicate();
        return;
      }
    }
    binary = h.binary;
  } else {
    const auto t = topic_of(msg.channel);
    if (!t) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    topic = *t;
    if (!cluster()) {
      std::uint32_t expected = link.confirmed_channels_.count(msg.channel) != 0 ? 1u : 0u;
      for (const auto& glob : link.confirmed_globs_) expected += util::glob_match(glob, topic) ? 1u : 0u;
      if (!link.raw_counter_.first(msg.channel, std::max<std::uint32_t>(expected, 1))) {
        duplicate();
        return;
      }
    }
    // Raw payloads carry no type: text when it is valid UTF-8, else a binary frame.
    binary = !protocol::is_valid_utf8(parsed.payload);
  }
  if (!locally_wanted(topic)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  delivered_.fetch_add(1, std::memory_order_relaxed);
  if (deliver_) deliver_(topic, parsed.payload, binary);
}

}  // namespace wse::cluster
