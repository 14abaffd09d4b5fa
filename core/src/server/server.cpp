#include "wse/server/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "wse/protocol/spec.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/json_writer.hpp"

namespace wse::server {

using transport::ConnInfo;
using transport::FrameRef;

Server::Server(transport::ServerConfig config)
    : config_(std::move(config)), inbound_(config_.max_inbound_queue_size) {
  config_.validate();
  if (config_.jwt_secret) {
    auth::JwtOptions options;
    options.secret = *config_.jwt_secret;
    options.issuer = config_.jwt_issuer;
    options.audience = config_.jwt_audience;
    jwt_ = std::move(options);
  }
}

Server::~Server() { stop(std::chrono::milliseconds(500)); }

void Server::require_running(const char* what) const {
  if (!running()) throw NotRunning(std::string(what) + ": the server is not running (call start() first)");
}

void Server::start() {
  if (running()) throw OperationFailed("start(): the server is already running");
  if (!shards_.empty())
    throw OperationFailed("start(): a stopped Server cannot be restarted; create a new one");
  std::size_t n = config_.io_threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<transport::Shard>(static_cast<std::uint32_t>(i), config_,
                                                         static_cast<transport::ShardHost&>(*this)));

  asio::io_context& io0 = shards_[0]->io();
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io0);
  accept_retry_ = std::make_unique<asio::steady_timer>(io0);
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(io0);
  auto results =
      resolver.resolve(config_.host, std::to_string(config_.port), asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty())
    throw OperationFailed("cannot resolve host '" + config_.host +
                          "': " + (ec ? ec.message() : "no address"));
  const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(config_.backlog, ec);
  if (ec) {
    const std::string why = ec.message();
    acceptor_.reset();
    accept_retry_.reset();
    shards_.clear();
    throw OperationFailed("cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " +
                          why);
  }
  acceptor_->non_blocking(true, ec);
  bound_port_ = acceptor_->local_endpoint(ec).port();
  started_at_ = std::chrono::steady_clock::now();
  inbound_.reopen();
  running_.store(true, std::memory_order_release);
  accept_next();
  for (auto& s : shards_) s->start();
}

void Server::accept_next() {
  // Wait for the listener, then take every connection the kernel has queued
  // (up to a burst, for fairness with the rest of this loop) with accept4(),
  // already non-blocking, and hand each to the next shard.
  acceptor_->async_wait(asio::ip::tcp::acceptor::wait_read, [this](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    constexpr int kAcceptBurst = 64;
    for (int i = 0; i < kAcceptBurst; ++i) {
      const int fd = ::accept4(acceptor_->native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        shards_[next_shard_]->post_adopt(util::UniqueFd(fd));
        next_shard_ = (next_shard_ + 1) % shards_.size();
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // The peer gave up before we took it, or a signal: try the next one.
      if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO) continue;
      // EMFILE, ENFILE, ENOBUFS, ENOMEM: back off briefly instead of spinning.
      accept_retry_->expires_after(std::chrono::milliseconds(50));
      accept_retry_->async_wait([this](const asio::error_code& e) {
        if (!e && acceptor_->is_open()) accept_next();
      });
      return;
    }
    accept_next();
  });
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!running_.exchange(false, std::memory_order_acq_rel)) {
    for (auto& s : shards_) s->stop_and_join();
    return;
  }
  // Close the listener on its own thread.
  std::atomic<bool> closed{false};
  asio::post(shards_[0]->io(), [this, &closed] {
    asio::error_code ec;
    acceptor_->close(ec);
    accept_retry_->cancel();
    closed.store(true);
  });
  for (auto& s : shards_)
    s->post_close_all(static_cast<std::uint16_t>(spec::CloseCode::SERVICE_RESTART), "server stopping");
  const auto deadline = std::chrono::steady_clock::now() + grace;
  auto all_closed = [&] {
    for (auto& s : shards_)
      if (s->live_connections() != 0) return false;
    return closed.load();
  };
  while (!all_closed() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (auto& s : shards_) s->stop_and_join();
  if (auto b = broker()) b->stop();
  acceptor_.reset();
  accept_retry_.reset();
  {
    std::lock_guard lock(registry_mu_);
    conns_.clear();
    topic_counts_.clear();
    broker_.reset();
  }
  slots_.store(0);
  inbound_.close();  // waiting drains return; what is queued stays drainable
}

// ---- ShardHost ----------------------------------------------------------------

bool Server::reserve_slot() {
  std::size_t cur = slots_.load(std::memory_order_relaxed);
  do {
    if (cur >= config_.max_connections) return false;
  } while (!slots_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel));
  return true;
}

void Server::release_slot() { slots_.fetch_sub(1, std::memory_order_acq_rel); }

void Server::connection_opened(const std::shared_ptr<ConnInfo>& info) {
  std::lock_guard lock(registry_mu_);
  conns_.emplace(info->id(), info);
}

void Server::connection_closed(const std::shared_ptr<ConnInfo>& info) {
  std::lock_guard lock(registry_mu_);
  conns_.erase(info->id());
  std::lock_guard conn_lock(info->mu);
  for (const auto& t : info->topics.list()) {
    auto it = topic_counts_.find(t);
    if (it != topic_counts_.end()) count_down(t);
  }
  info->topics.clear();
}

void Server::topics_changed(const std::shared_ptr<ConnInfo>& info, const std::vector<std::string>& added,
                            const std::vector<std::string>& removed) {
  std::lock_guard lock(registry_mu_);
  std::lock_guard conn_lock(info->mu);
  for (const auto& t : added)
    if (info->topics.insert(t)) count_up(t);
  for (const auto& t : removed) {
    if (info->topics.erase(t) != 0) count_down(t);
  }
}

bool Server::authenticate(std::string_view token, std::string& user_id, std::string& code,
                          std::string& message) {
  std::string why;
  const auto now_s = util::unix_ms() / 1000;
  auto claims = auth::jwt_decode_hs256(token, *jwt_, now_s, &why);
  if (!claims) {
    code = std::string(spec::kErrorAuthFailed);
    message = why.empty() ? "Invalid token" : why;
    return false;
  }
  if (claims->subject.empty()) {
    code = std::string(spec::kErrorAuthFailed);
    message = "Token missing user ID (sub)";
    return false;
  }
  user_id = std::move(claims->subject);
  return true;
}

// ---- API ------------------------------------------------------------------------

std::shared_ptr<ConnInfo> Server::find(std::string_view conn_id) const {
  std::lock_guard lock(registry_mu_);
  auto it = conns_.find(conn_id);
  return it == conns_.end() ? nullptr : it->second;
}

bool Server::send_frame(const ConnInfo& conn, FrameRef frame) {
  if (!conn.open.load(std::memory_order_acquire)) return false;
  shards_[conn.shard]->post_send(conn.serial, std::move(frame));
  return true;
}

bool Server::send_frame(std::string_view conn_id, FrameRef frame) {
  require_running("send");
  // The address only (shard, serial) under the lock: no reference-count traffic
  // on the hot path of request/response applications.
  std::uint32_t shard = 0;
  std::uint64_t serial = 0;
  {
    std::lock_guard lock(registry_mu_);
    auto it = conns_.find(conn_id);
    if (it == conns_.end() || !it->second->open.load(std::memory_order_acquire)) return false;
    shard = it->second->shard;
    serial = it->second->serial;
  }
  shards_[shard]->post_send(serial, std::move(frame));
  return true;
}

std::size_t Server::send_frames(std::vector<std::pair<std::string_view, FrameRef>>& batch) {
  require_running("send_many");
  std::vector<std::vector<std::pair<std::uint64_t, FrameRef>>> per_shard(shards_.size());
  std::size_t queued = 0;
  {
    std::lock_guard lock(registry_mu_);
    for (auto& [conn_id, frame] : batch) {
      auto it = conns_.find(conn_id);
      if (it == conns_.end() || !it->second->open.load(std::memory_order_acquire)) continue;
      queued += frame->frames();
      per_shard[it->second->shard].emplace_back(it->second->serial, std::move(frame));
    }
  }
  for (std::size_t i = 0; i < per_shard.size(); ++i)
    if (!per_shard[i].empty()) shards_[i]->post_sends(std::move(per_shard[i]));
  return queued;
}

void Server::broadcast(FrameRef frame) {
  require_running("broadcast");
  for (auto& s : shards_) s->post_broadcast(frame);
}

void Server::publish_local(std::string_view topic, FrameRef frame) {
  require_running("publish_local");
  for (auto& s : shards_) s->post_publish(std::string(topic), frame);
}

void Server::count_up(const std::string& topic) {
  if (++topic_counts_[topic] == 1 && broker_) broker_->interest_added(topic);
}

void Server::count_down(const std::string& topic) {
  auto it = topic_counts_.find(topic);
  if (it == topic_counts_.end()) return;
  if (--it->second == 0) {
    topic_counts_.erase(it);
    if (broker_) broker_->interest_removed(topic);
  }
}

void Server::publish(std::string_view topic, std::string_view payload, bool binary) {
  require_running("publish");
  std::shared_ptr<Broker> b = broker();
  if (b) {
    b->publish(topic, payload, binary);
  } else {
    publish_local(topic,
                  transport::make_frame(binary ? protocol::Opcode::Binary : protocol::Opcode::Text, payload));
  }
}

std::shared_ptr<Broker> Server::broker() const {
  std::lock_guard lock(registry_mu_);
  return broker_;
}

void Server::set_broker(std::shared_ptr<Broker> broker) {
  if (broker) {
    // Runs on the broker's thread: must not throw. shards_ never changes after
    // start(), and a post to a stopped shard is simply never run.
    broker->start([this](std::string_view topic, std::string_view payload, bool binary) {
      if (!running()) return;
      auto frame = transport::make_frame(binary ? protocol::Opcode::Binary : protocol::Opcode::Text, payload);
      for (auto& s : shards_) s->post_publish(std::string(topic), frame);
    });
  }
  std::shared_ptr<Broker> old;
  {
    std::lock_guard lock(registry_mu_);
    old = std::exchange(broker_, broker);
    if (broker_)
      for (const auto& [topic, count] : topic_counts_) broker_->interest_added(topic);
  }
  if (old) old->stop();
}

bool Server::subscribe(std::string_view conn_id, const std::vector<std::string>& topics) {
  require_running("subscribe_connection");
  for (const auto& t : topics)
    if (t.empty()) throw InvalidArgument("subscribe_connection: topics must be non-empty strings");
  std::lock_guard lock(registry_mu_);
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return false;
  ConnInfo& info = *it->second;
  std::vector<std::string> fresh;
  {
    std::lock_guard conn_lock(info.mu);
    for (const auto& t : topics)
      if (info.topics.insert(t)) {
        count_up(t);
        fresh.push_back(t);
      }
  }
  // Posted under the registry lock so a later publish_local finds it queued first.
  if (!fresh.empty()) shards_[info.shard]->post_subscribe(info.serial, std::move(fresh));
  return true;
}

bool Server::unsubscribe(std::string_view conn_id, const std::optional<std::vector<std::string>>& topics) {
  require_running("unsubscribe_connection");
  std::lock_guard lock(registry_mu_);
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return false;
  ConnInfo& info = *it->second;
  std::vector<std::string> gone;
  {
    std::lock_guard conn_lock(info.mu);
    if (topics) {
      for (const auto& t : *topics)
        if (info.topics.erase(t) != 0) gone.push_back(t);
    } else {
      gone = info.topics.list();
      info.topics.clear();
    }
  }
  for (const auto& t : gone) count_down(t);
  if (!gone.empty()) shards_[info.shard]->post_unsubscribe(info.serial, std::move(gone));
  return true;
}

std::size_t Server::topic_subscriber_count(std::string_view topic) const {
  std::lock_guard lock(registry_mu_);
  auto it = topic_counts_.find(topic);
  return it == topic_counts_.end() ? 0 : it->second;
}

std::vector<std::string> Server::connection_topics(std::string_view conn_id) const {
  auto info = find(conn_id);
  std::vector<std::string> out;
  if (!info) return out;
  std::lock_guard lock(info->mu);
  out = info->topics.list();
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t Server::connection_count() const {
  std::lock_guard lock(registry_mu_);
  return conns_.size();
}

std::vector<std::string> Server::connection_ids() const {
  std::lock_guard lock(registry_mu_);
  std::vector<std::string> out;
  out.reserve(conns_.size());
  for (const auto& [id, info] : conns_) out.emplace_back(id);
  return out;
}

bool Server::disconnect(std::string_view conn_id, std::uint16_t code, std::string_view reason) {
  require_running("disconnect");
  if (!protocol::is_valid_close_code(code) || code == 1005 || code == 1006 || code == 1015)
    throw InvalidArgument("disconnect: invalid close code " + std::to_string(code));
  if (reason.size() > 123) throw InvalidArgument("disconnect: reason longer than 123 bytes");
  auto info = find(conn_id);
  if (!info) return false;
  shards_[info->shard]->post_disconnect(info->serial, code, std::string(reason));
  return true;
}

Health Server::health() const {
  Health h;
  h.connections = connection_count();
  h.inbound_queue_depth = inbound_.depth();
  h.inbound_dropped = inbound_.dropped();
  h.inbound_drained = inbound_.total_drained();
  h.io_threads = shards_.size();
  if (started_at_.time_since_epoch().count() != 0)
    h.uptime_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  for (const auto& s : shards_) {
    const auto& c = s->counters();
    auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    h.connections_opened += get(c.connections_opened);
    h.connections_closed += get(c.connections_closed);
    h.handshakes_rejected += get(c.handshakes_rejected);
    h.auth_failures += get(c.auth_failures);
    h.messages_in += get(c.messages_in);
    h.bytes_in += get(c.bytes_in);
    h.frames_out += get(c.frames_out);
    h.bytes_out += get(c.bytes_out);
    h.write_calls += get(c.write_calls);
    h.deliveries += get(c.deliveries);
    h.slow_consumer_closed += get(c.slow_consumer_closed);
    h.slow_consumer_dropped += get(c.slow_consumer_dropped);
    h.rate_limited += get(c.rate_limited);
    h.protocol_errors += get(c.protocol_errors);
    h.idle_closed += get(c.idle_closed);
    h.pings_answered += get(c.pings_answered);
  }
  return h;
}

std::string Server::health_json() {
  const Health h = health();
  std::string out;
  util::JsonWriter w(out);
  w.begin_object();
  w.key("status").string(running() ? "ok" : "stopped");
  w.key("server_version").string(spec::kServerVersion);
  w.key("connections").uinteger(h.connections);
  w.key("io_threads").uinteger(h.io_threads);
  w.key("uptime_secs").number(h.uptime_secs);
  w.key("inbound_queue_depth").uinteger(h.inbound_queue_depth);
  w.key("inbound_dropped").uinteger(h.inbound_dropped);
  if (auto b = broker()) {
    const BrokerHealth bh = b->health();
    w.key("redis_connected").boolean(bh.connected);
    w.key("redis_mode").string(bh.mode);
    w.key("redis_dlq_size").uinteger(bh.dlq_size);
  }
  w.end_object();
  return out;
}

std::string Server::metrics_text() {
  const Health h = health();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
    out.append(type).append("\n").append(name).append(" ");
    util::append_json_double(out, value);
    out.append("\n");
  };
  auto d = [](auto v) { return static_cast<double>(v); };
  metric("wse_connections", "gauge", "Open WebSocket connections.", d(h.connections));
  metric("wse_connections_opened_total", "counter", "WebSocket connections accepted.",
         d(h.connections_opened));
  metric("wse_connections_closed_total", "counter", "WebSocket connections closed.", d(h.connections_closed));
  metric("wse_handshakes_rejected_total", "counter", "HTTP requests answered with an error status.",
         d(h.handshakes_rejected));
  metric("wse_auth_failures_total", "counter", "Upgrades refused for a missing or invalid JWT.",
         d(h.auth_failures));
  metric("wse_messages_received_total", "counter", "Data messages received from clients.", d(h.messages_in));
  metric("wse_bytes_received_total", "counter", "Bytes read from client sockets.", d(h.bytes_in));
  metric("wse_frames_sent_total", "counter", "Frames fully written to client sockets.", d(h.frames_out));
  metric("wse_bytes_sent_total", "counter", "Bytes written to client sockets.", d(h.bytes_out));
  metric("wse_write_calls_total", "counter", "Vectored write system calls.", d(h.write_calls));
  metric("wse_deliveries_total", "counter", "Topic and broadcast deliveries queued.", d(h.deliveries));
  metric("wse_slow_consumer_closed_total", "counter", "Connections closed (1013) over the outbound byte cap.",
         d(h.slow_consumer_closed));
  metric("wse_slow_consumer_dropped_total", "counter", "Messages dropped over the outbound byte cap.",
         d(h.slow_consumer_dropped));
  metric("wse_rate_limited_total", "counter", "Inbound messages dropped by the rate limiter.",
         d(h.rate_limited));
  metric("wse_protocol_errors_total", "counter", "Connections closed for RFC 6455 violations.",
         d(h.protocol_errors));
  metric("wse_idle_closed_total", "counter", "Connections closed by the idle timeout.", d(h.idle_closed));
  metric("wse_pings_answered_total", "counter", "Application pings answered natively.", d(h.pings_answered));
  metric("wse_inbound_queue_depth", "gauge", "Inbound events waiting for the application.",
         d(h.inbound_queue_depth));
  metric("wse_inbound_dropped_total", "counter", "Inbound events dropped because the queue was full.",
         d(h.inbound_dropped));
  metric("wse_inbound_drained_total", "counter", "Inbound events handed to the application.",
         d(h.inbound_drained));
  metric("wse_uptime_seconds", "gauge", "Seconds since start().", h.uptime_secs);
  if (auto b = broker()) {
    const BrokerHealth bh = b->health();
    metric("wse_redis_connected", "gauge", "1 while every Redis connection the broker needs is up.",
           bh.connected ? 1.0 : 0.0);
    metric("wse_redis_messages_received_total", "counter", "Messages read from Redis subscriptions.",
           d(bh.messages_received));
    metric("wse_redis_messages_published_total", "counter", "Publishes Redis acknowledged.",
           d(bh.messages_published));
    metric("wse_redis_messages_delivered_total", "counter", "Redis messages handed to local fan-out.",
           d(bh.messages_delivered));
    metric("wse_redis_messages_dropped_total", "counter",
           "Redis messages not delivered (duplicates, no local interest, malformed).",
           d(bh.messages_dropped));
    metric("wse_redis_duplicates_total", "counter", "Copies of a message recognised and dropped.",
           d(bh.duplicates_suppressed));
    metric("wse_redis_publish_errors_total", "counter", "Publishes sent to the dead-letter queue.",
           d(bh.publish_errors));
    metric("wse_redis_reconnects_total", "counter", "Reconnection attempts to Redis.", d(bh.reconnect_count));
    metric("wse_redis_pending", "gauge", "Publishes queued or in flight towards Redis.", d(bh.pending));
    metric("wse_redis_dlq_size", "gauge", "Entries in the dead-letter queue.", d(bh.dlq_size));
  }
  return out;
}

}  // namespace wse::server
