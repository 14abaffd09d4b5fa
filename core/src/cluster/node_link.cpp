// NodeLink: the two connections to one Redis master and what flows on them.
// See broker_core.hpp for the division of work with BrokerCore.
#include <algorithm>

#include "broker_core.hpp"
#include "wse/cluster/message_header.hpp"
#include "wse/cluster/redis_channel.hpp"
#include "wse/cluster/resp_writer.hpp"

namespace wse::cluster {

namespace {

std::chrono::milliseconds total(const std::vector<std::chrono::milliseconds>& delays) {
  std::chrono::milliseconds sum{0};
  for (auto d : delays) sum += d;
  return sum;
}

// Grace after the last fast retry before held publishes go to the dead-letter queue.
constexpr std::chrono::milliseconds kHoldGrace{100};
constexpr std::chrono::milliseconds kSubRetry{1000};
constexpr std::chrono::milliseconds kResubscribeWait{2000};

}  // namespace

NodeLink::NodeLink(BrokerCore& core, NodeAddress address, std::uint32_t source)
    : core_(core),
      address_(std::move(address)),
      source_(source),
      conn_breaker_(core.options().connect_breaker),
      pub_breaker_(core.options().publish_breaker) {
  for (Role* r : {&cmd_, &sub_}) {
    r->backoff = Backoff(core.options().backoff);
    r->fast_retries = core.options().retry_delays.size();  // no fast phase before the first success
  }
}

NodeLink::~NodeLink() { shutdown(nullptr); }

void NodeLink::start() {
  const auto now = Clock::now();
  holding_ = true;
  resubscribing_ = true;
  resubscribe_since_ = now;
  hold_until_ = now + std::chrono::milliseconds(
                          static_cast<std::int64_t>(core_.options().url.connect_timeout_s * 1000));
  connect(cmd_, false);
  connect(sub_, true);
}

void NodeLink::shutdown(std::vector<PublishItem>* out) {
  for (Role* r : {&cmd_, &sub_}) {
    if (r->conn) r->conn->close();
    r->conn.reset();
    r->scheduled = false;
  }
  if (out != nullptr) {
    for (auto& e : expect_)
      if (e.kind == CmdKind::Publish) out->push_back(std::move(e.item));
    for (auto& i : pending_) out->push_back(std::move(i));
    for (auto& i : retry_) out->push_back(std::move(i));
  }
  expect_.clear();
  pending_.clear();
  retry_.clear();
  in_flight_ = 0;
  sub_expect_.clear();
}

void NodeLink::connect(Role& role, bool is_sub) {
  const auto now = Clock::now();
  role.scheduled = false;
  if (!conn_breaker_.allow(now)) {
    role.next_attempt = std::max(conn_breaker_.reopens_at(), now + std::chrono::milliseconds(50));
    role.scheduled = true;
    return;
  }
  ConnectionTarget target{address_.host, address_.port, !core_.cluster()};
  role.conn = std::make_shared<RedisConnection>(core_.io(), core_.tls(), core_.options().url,
                                                std::move(target), core_.client_name(is_sub), *this);
  role.conn->connect();
}

void NodeLink::schedule(Role& role, Clock::time_point now, bool after_loss) {
  const auto& delays = core_.options().retry_delays;
  std::chrono::milliseconds delay{0};
  if (after_loss) {
    role.fast_retries = 0;  // first attempt at once, then the retry delays
  } else if (role.fast_retries < delays.size()) {
    delay = delays[role.fast_retries++];
  } else {
    delay = role.backoff.next_delay(core_.unit_random());
  }
  role.next_attempt = now + delay;
  role.scheduled = true;
}

void NodeLink::on_ready(RedisConnection& conn) {
  const bool is_sub = &conn == sub_.conn.get();
  if (!is_sub && &conn != cmd_.conn.get()) return;
  Role& role = is_sub ? sub_ : cmd_;
  conn_breaker_.on_success();
  role.backoff.reset();
  role.fast_retries = core_.options().retry_delays.size();
  role.ever_ready = true;
  role.last_activity = Clock::now();
  role.last_bytes = 0;
  role.ping_outstanding = false;
  if (is_sub) {
    reset_subscriptions();
    for (auto& [name, st] : subs_)
      if (st.desired) mark(name, st);
    reconcile();
  }
  core_.link_ready(*this);
  if (!is_sub) flush();
}

void NodeLink::reset_subscriptions() {
  sub_expect_.clear();
  sub_retry_.clear();
  confirmed_channels_.clear();
  confirmed_globs_.clear();
  confirmed_count_ = 0;
  raw_counter_.reset();
  for (auto it = subs_.begin(); it != subs_.end();) {
    if (!it->second.desired) {
      it = subs_.erase(it);
      continue;
    }
    it->second.confirmed = false;
    it->second.in_flight = 0;
    it->second.retry_at = {};
    ++it;
  }
}

void NodeLink::on_closed(RedisConnection& conn, const std::string& reason, bool established) {
  const bool is_sub = &conn == sub_.conn.get();
  if (!is_sub && &conn != cmd_.conn.get()) return;
  lost(is_sub ? sub_ : cmd_, is_sub, reason, established);
}

void NodeLink::lost(Role& role, bool is_sub, const std::string& reason, bool established) {
  const auto now = Clock::now();
  role.conn.reset();  // the failing connection keeps itself alive until its handlers return
  role.ping_outstanding = false;
  core_.record_error(address_.to_string() + ": " + reason);
  // In a cluster a node that goes away may be failing over: ask for the slots
  // again (repeated on every failed reconnect, at most every 100 ms) instead of
  // waiting for the periodic refresh.
  core_.request_refresh();
  if (established) {
    // The connection had worked: this is not a connect failure (as the seed does).
    conn_breaker_.on_success();
    role.backoff.reset();
  } else {
    conn_breaker_.on_failure(now);
  }
  if (is_sub) {
    reset_subscriptions();
    resubscribing_ = true;
    resubscribe_since_ = now;
  } else {
    std::vector<PublishItem> back;
    for (auto& e : expect_) {
      if (e.kind == CmdKind::Publish) {
        e.item.ambiguous = true;
        ++e.item.attempts;
        back.push_back(std::move(e.item));
      } else {
        RespValue err;
        err.type = RespType::Error;
        err.str = "connection lost";
        core_.on_cmd_result(*this, e.kind, err);
      }
    }
    expect_.clear();
    in_flight_ = 0;
    if (!back.empty()) pub_breaker_.on_failure(now);
    const auto max_attempts = core_.options().publish_attempts;
    for (auto it = back.rbegin(); it != back.rend(); ++it) {
      if (it->attempts >= max_attempts) {
        core_.dead_letter(
            std::move(*it),
            "connection lost before Redis answered (the message may have been delivered): " + reason);
      } else {
        pending_.push_front(std::move(*it));  // same sequence: receivers drop it if Redis had executed it
      }
    }
    if (established) {
      holding_ = true;
      hold_until_ = now + total(core_.options().retry_delays) + kHoldGrace;
    } else if (!holding_ || !cmd_.ever_ready || now >= hold_until_) {
      // The first connection failed, or the fast retries after a loss are over:
      // from now on publishes go to the dead-letter queue until Redis is back.
      holding_ = false;
      drop_pending("Redis disconnected: " + reason);
    }
  }
  schedule(role, now, established);
}

void NodeLink::drop_pending(const std::string& reason) {
  std::deque<PublishItem> items;
  items.swap(pending_);
  for (auto& i : items) core_.dead_letter(std::move(i), reason);
  std::vector<PublishItem> retries;
  retries.swap(retry_);
  for (auto& i : retries) core_.dead_letter(std::move(i), reason);
}

void NodeLink::enqueue(PublishItem&& item) {
  if (cmd_ready() || holding_) {
    pending_.push_back(std::move(item));
    return;
  }
  core_.dead_letter(std::move(item), "Redis disconnected");
}

void NodeLink::encode(const PublishItem& item, std::string& out) const {
  append_array_header(out, 3);
  append_bulk(out, core_.cluster() && !core_.compat() ? "SPUBLISH" : "PUBLISH");
  append_bulk(out, item.channel);
  if (core_.compat()) {
    append_bulk(out, item.payload);
    return;
  }
  MessageHeader h;
  h.publisher = core_.publisher_id();
  h.seq = item.seq;
  h.binary = item.binary;
  h.multi_copy = item.multi;
  h.message_id = item.message_id;
  if (item.copy) h.topic = item.topic;
  append_bulk_header(out, encoded_size(h, item.payload.size()));
  encode_message(h, item.payload, out);
  out.append("\r\n", 2);
}

bool NodeLink::subscriptions_settled(Clock::time_point now) {
  if (!resubscribing_) return true;
  bool settled = now - resubscribe_since_ > kResubscribeWait;
  if (!settled && sub_ready()) {
    settled = true;
    for (const auto& [name, st] : subs_)
      if (st.desired && !st.confirmed) {
        settled = false;
        break;
      }
  }
  if (settled) resubscribing_ = false;
  return settled;
}

void NodeLink::flush() {
  if (!cmd_ready()) return;
  const auto now = Clock::now();
  if (!subscriptions_settled(now)) return;
  std::string& out = cmd_.conn->out();
  const std::size_t max_in_flight = core_.options().max_in_flight;
  while (!pending_.empty() && in_flight_ < max_in_flight) {
    if (!pub_breaker_.allow(now)) {
      if (pub_breaker_.state() == BreakerState::Open) drop_pending("circuit breaker open");
      break;  // half-open: wait for the probes' answers
    }
    PublishItem item = std::move(pending_.front());
    pending_.pop_front();
    encode(item, out);
    expect_.push_back(CmdEntry{CmdKind::Publish, std::move(item)});
    ++in_flight_;
  }
  cmd_.conn->flush();
}

bool NodeLink::command(CmdKind kind, std::initializer_list<std::string_view> args) {
  if (!cmd_ready()) return false;
  append_command(cmd_.conn->out(), args);
  expect_.push_back(CmdEntry{kind, {}});
  cmd_.conn->flush();
  return true;
}

void NodeLink::on_reply(RedisConnection& conn, RespValue&& reply) {
  if (&conn == cmd_.conn.get()) {
    on_cmd_reply(reply);
  } else if (&conn == sub_.conn.get()) {
    on_sub_reply(reply);
  }
}

void NodeLink::on_batch_end(RedisConnection& conn) {
  if (&conn == cmd_.conn.get()) {
    flush();
  } else if (&conn == sub_.conn.get()) {
    reconcile();
    if (resubscribing_) flush();
  }
}

void NodeLink::on_cmd_reply(RespValue& reply) {
  if (expect_.empty()) {
    core_.record_error(address_.to_string() + ": unexpected reply on the command connection");
    return;
  }
  CmdEntry e = std::move(expect_.front());
  expect_.pop_front();
  if (e.kind == CmdKind::Ping) {
    cmd_.ping_outstanding = false;
    return;
  }
  if (e.kind != CmdKind::Publish) {
    core_.on_cmd_result(*this, e.kind, reply);
    return;
  }
  --in_flight_;
  if (reply.is_error()) {
    if (auto where = parse_redirect(reply.str)) {
      core_.redirect(*this, std::move(e.item), *where);
      return;
    }
    pub_breaker_.on_failure(Clock::now());
    core_.record_error(address_.to_string() + ": publish rejected: " + reply.str);
    publish_failed(std::move(e.item), reply.str);
    return;
  }
  pub_breaker_.on_success();
  core_.published(e.item);
}

void NodeLink::publish_failed(PublishItem&& item, const std::string& error) {
  const auto& delays = core_.options().retry_delays;
  ++item.attempts;
  if (item.attempts < core_.options().publish_attempts && !delays.empty()) {
    const std::size_t idx = std::min<std::size_t>(item.attempts - 1u, delays.size() - 1);
    item.due = Clock::now() + delays[idx];
    retry_.push_back(std::move(item));
    return;
  }
  core_.dead_letter(std::move(item),
                    "Redis rejected the publish " + std::to_string(item.attempts) + " times: " + error);
}

std::string_view NodeLink::verb(SubKind kind, bool subscribe) noexcept {
  switch (kind) {
    case SubKind::Channel:
      return subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
    case SubKind::Pattern:
      return subscribe ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
    case SubKind::Sharded:
      return subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
  }
  return "SUBSCRIBE";
}

void NodeLink::desire(SubKind kind, const std::string& name, const std::string& topic, bool want) {
  auto [it, inserted] = subs_.try_emplace(name);
  SubState& st = it->second;
  if (inserted) {
    st.kind = kind;
    st.topic = topic;
  }
  if (st.desired == want && !inserted) return;
  st.desired = want;
  if (!want && !st.confirmed && st.in_flight == 0 && !st.queued) {
    subs_.erase(it);
    return;
  }
  mark(name, st);
}

void NodeLink::mark(const std::string& name, SubState& st) {
  if (st.queued) return;  // already in dirty_: keeps it bounded by the number of subscriptions
  st.queued = true;
  dirty_.push_back(name);
}

void NodeLink::reconcile() {
  if (!sub_ready()) return;
  if (dirty_.empty()) return;
  const auto now = Clock::now();
  std::string& out = sub_.conn->out();
  std::vector<std::string> names;
  names.swap(dirty_);
  for (const auto& name : names) {
    auto it = subs_.find(name);
    if (it == subs_.end()) continue;
    SubState& st = it->second;
    st.queued = false;
    if (st.in_flight > 0) continue;  // its confirmation re-dirties it
    if (st.desired == st.confirmed) {
      if (!st.desired) subs_.erase(it);
      continue;
    }
    if (st.retry_at > now) continue;  // tick() re-dirties it
    // One channel per command: each gets exactly one reply, matched in order.
    append_command(out, {verb(st.kind, st.desired), name});
    sub_expect_.push_back(SubCommand{false, st.desired, st.kind, name});
    ++st.in_flight;
  }
  sub_.conn->flush();
}

void NodeLink::set_confirmed(const std::string& name, SubState& st, bool on) {
  if (st.confirmed == on) return;
  st.confirmed = on;
  if (on) {
    ++confirmed_count_;
  } else if (confirmed_count_ > 0) {
    --confirmed_count_;
  }
  if (st.kind == SubKind::Channel) {
    if (on) {
      confirmed_channels_.insert(name);
    } else {
      confirmed_channels_.erase(name);
    }
  } else if (st.kind == SubKind::Pattern) {
    if (on) {
      confirmed_globs_.insert(st.topic);
    } else if (auto g = confirmed_globs_.find(st.topic); g != confirmed_globs_.end()) {
      confirmed_globs_.erase(g);
    }
  }
}

void NodeLink::on_sub_reply(RespValue& reply) {
  const auto now = Clock::now();
  if (reply.is_error()) {
    if (sub_expect_.empty()) {
      core_.record_error(address_.to_string() + ": " + reply.str);
      return;
    }
    SubCommand c = std::move(sub_expect_.front());
    sub_expect_.pop_front();
    if (c.ping) {
      sub_.ping_outstanding = false;
      return;
    }
    if (auto it = subs_.find(c.name); it != subs_.end()) {
      SubState& st = it->second;
      if (st.in_flight > 0) --st.in_flight;
      if (!c.subscribe) set_confirmed(c.name, st, false);  // the node does not hold it either way
      st.retry_at = now + kSubRetry;
      sub_retry_.push_back(c.name);
    }
    if (parse_redirect(reply.str)) core_.request_refresh();
    core_.record_error(address_.to_string() + ": " + std::string(verb(c.kind, c.subscribe)) + " " + c.name +
                       " failed: " + reply.str);
    return;
  }
  const auto push = classify_push(reply);
  if (!push) {
    // "+PONG" when nothing is subscribed yet.
    if (!sub_expect_.empty() && sub_expect_.front().ping) sub_expect_.pop_front();
    sub_.ping_outstanding = false;
    return;
  }
  if (is_delivery(push->kind)) {
    core_.on_delivery(*this, *push);
    return;
  }
  if (push->kind == PushKind::Pong) {
    if (!sub_expect_.empty() && sub_expect_.front().ping) sub_expect_.pop_front();
    sub_.ping_outstanding = false;
    return;
  }
  raw_counter_.reset();
  SubKind kind = SubKind::Channel;
  bool on = true;
  switch (push->kind) {
    case PushKind::Subscribe:
      break;
    case PushKind::Unsubscribe:
      on = false;
      break;
    case PushKind::PSubscribe:
      kind = SubKind::Pattern;
      break;
    case PushKind::PUnsubscribe:
      kind = SubKind::Pattern;
      on = false;
      break;
    case PushKind::SSubscribe:
      kind = SubKind::Sharded;
      break;
    default:
      kind = SubKind::Sharded;
      on = false;
      break;
  }
  const std::string name(push->channel);
  auto it = subs_.find(name);
  if (!sub_expect_.empty()) {
    const SubCommand& front = sub_expect_.front();
    if (!front.ping && front.kind == kind && front.subscribe == on && front.name == name) {
      sub_expect_.pop_front();
      if (it != subs_.end()) {
        if (it->second.in_flight > 0) --it->second.in_flight;
        set_confirmed(name, it->second, on);
        mark(name, it->second);
      }
      return;
    }
  }
  if (!on && it != subs_.end()) {
    // Unsolicited: the node dropped the subscription (its slot moved away).
    set_confirmed(name, it->second, false);
    mark(name, it->second);
    core_.request_refresh();
  }
}

void NodeLink::tick(Clock::time_point now) {
  const auto& opt = core_.options();
  for (Role* role : {&cmd_, &sub_}) {
    const bool is_sub = role == &sub_;
    if (!role->conn) {
      if (role->scheduled && now >= role->next_attempt) {
        core_.count_reconnect();
        connect(*role, is_sub);
      }
      continue;
    }
    if (!role->conn->ready()) continue;
    const std::uint64_t bytes = role->conn->bytes_read();
    if (bytes != role->last_bytes) {
      role->last_bytes = bytes;
      role->last_activity = now;
      role->ping_outstanding = false;
    }
    if (role->ping_outstanding && now - role->ping_sent > opt.ping_timeout) {
      role->conn->close();
      lost(*role, is_sub, "no answer to PING", true);
      continue;
    }
    if (!role->ping_outstanding && now - role->last_activity > opt.ping_interval) {
      role->ping_outstanding = true;
      role->ping_sent = now;
      if (is_sub) {
        append_command(role->conn->out(), {"PING"});
        sub_expect_.push_back(SubCommand{true, false, SubKind::Channel, {}});
        role->conn->flush();
      } else {
        command(CmdKind::Ping, {"PING"});
      }
    }
  }
  if (!cmd_ready() && holding_ && now >= hold_until_) {
    holding_ = false;
    drop_pending("Redis disconnected");
  }
  if (!retry_.empty()) {
    std::vector<PublishItem> later;
    for (auto& item : retry_) {
      if (item.due > now) {
        later.push_back(std::move(item));
        continue;
      }
      item.seq = core_.next_seq();  // never executed: a new sequence keeps the stream increasing
      enqueue(std::move(item));
    }
    retry_.swap(later);
  }
  if (!sub_retry_.empty()) {
    std::vector<std::string> later;
    for (auto& name : sub_retry_) {
      auto it = subs_.find(name);
      if (it == subs_.end()) continue;
      if (it->second.retry_at > now) {
        later.push_back(std::move(name));
      } else {
        mark(name, it->second);
      }
    }
    sub_retry_.swap(later);
  }
  reconcile();
  flush();
}

}  // namespace wse::cluster
