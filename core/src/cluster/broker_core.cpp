// BrokerCore: the broker thread, routing, topology, pattern registry and the
// receive path. See broker_core.hpp; NodeLink lives in node_link.cpp.
#include "broker_core.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "wse/cluster/message_header.hpp"
#include "wse/cluster/redis_channel.hpp"
#include "wse/protocol/utf8.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/glob.hpp"

namespace wse::cluster {

namespace {

constexpr std::chrono::milliseconds kTick{50};
constexpr std::chrono::milliseconds kRefreshMinInterval{100};
constexpr std::chrono::milliseconds kWaitLimit{5000};  // for a mode, a slot owner or the registry
constexpr std::chrono::milliseconds kCommandTimeout{10000};

std::uint8_t breaker_rank(BreakerState s) {
  return s == BreakerState::Open ? 2 : (s == BreakerState::HalfOpen ? 1 : 0);
}

std::string_view breaker_name(std::uint8_t rank) {
  return rank == 2 ? "open" : (rank == 1 ? "half_open" : "closed");
}

void validate(const RedisBrokerOptions& o) {
  if (o.max_pending == 0) throw InvalidArgument("max_pending must be at least 1");
  if (o.max_in_flight == 0) throw InvalidArgument("max_in_flight must be at least 1");
  if (o.publish_attempts == 0 || o.publish_attempts > 100)
    throw InvalidArgument("publish_attempts must be 1..100");
  if (o.mode == RedisMode::Cluster && o.url.db != 0)
    throw InvalidArgument("Redis Cluster has only database 0; remove the db from the URL");
}

}  // namespace

BrokerCore::BrokerCore(RedisBrokerOptions options)
    : options_(std::move(options)), dlq_(options_.dlq_capacity) {
  validate(options_);
  std::random_device rd;
  rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ util::monotonic_ns());
  do publisher_ = rng_();
  while (publisher_ == 0);
  if (options_.url.tls) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    asio::error_code ec;
    if (options_.url.tls_verify != TlsVerify::None) {
      if (!options_.url.tls_ca_file.empty()) {
        tls_->load_verify_file(options_.url.tls_ca_file, ec);
        if (ec)
          throw InvalidArgument("cannot load ssl_ca_certs '" + options_.url.tls_ca_file +
                                "': " + ec.message());
      } else {
        tls_->set_default_verify_paths(ec);
      }
    }
    if (!options_.url.tls_cert_file.empty()) {
      tls_->use_certificate_chain_file(options_.url.tls_cert_file, ec);
      if (ec)
        throw InvalidArgument("cannot load ssl_certfile '" + options_.url.tls_cert_file +
                              "': " + ec.message());
      tls_->use_private_key_file(options_.url.tls_key_file, asio::ssl::context::pem, ec);
      if (ec)
        throw InvalidArgument("cannot load ssl_keyfile '" + options_.url.tls_key_file + "': " + ec.message());
    }
  }
  slot_owner_.assign(kSlotCount, Topology::kNoOwner);
}

BrokerCore::~BrokerCore() { stop(); }

std::string BrokerCore::own_id() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, publisher_);
  return buf;
}

std::string BrokerCore::client_name(bool sub) const {
  return options_.client_name + "-" + own_id() + (sub ? "-sub" : "-cmd");
}

double BrokerCore::unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

std::uint32_t BrokerCore::source_for(const NodeAddress& address) {
  const auto [it, inserted] =
      sources_.try_emplace(address.to_string(), static_cast<std::uint32_t>(sources_.size()));
  return it->second;
}

// ---- any thread -------------------------------------------------------------

void BrokerCore::start(server::Broker::Deliver deliver) {
  {
    std::lock_guard lock(mu_);
    if (started_) throw OperationFailed("a RedisBroker cannot be started twice; create a new one");
    started_ = true;
    accepting_ = true;
  }
  deliver_ = std::move(deliver);
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  tick_ = std::make_unique<asio::steady_timer>(io_);
  asio::post(io_, [this] {
    const NodeAddress seed{options_.url.host, options_.url.port};
    links_.push_back(std::make_unique<NodeLink>(*this, seed, source_for(seed)));
    links_.back()->start();
    if (options_.raw_compat || options_.mode == RedisMode::Standalone) set_mode(Mode::Standalone);
    drain_mailbox();  // interests registered before start()
    arm_tick();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wse-redis");
    io_.run();
  });
}

void BrokerCore::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    accepting_ = false;
  }
  asio::post(io_, [this] { begin_stop(); });
  if (thread_.joinable()) thread_.join();
  connected_.store(false, std::memory_order_relaxed);
}

void BrokerCore::publish(std::string_view topic, std::string_view payload, bool binary) {
  auto refuse = [&](std::string why) {
    publish_errors_.fetch_add(1, std::memory_order_relaxed);
    dlq_.push(server::DeadLetter{channel_for(topic), std::string(payload), std::move(why), binary});
  };
  const std::size_t bytes = topic.size() + payload.size();
  if (queued_.load(std::memory_order_relaxed) >= options_.max_pending ||
      queued_bytes_.load(std::memory_order_relaxed) + bytes > options_.max_pending_bytes) {
    refuse("publish queue full (" + std::to_string(queued_.load()) + " messages waiting for Redis)");
    return;
  }
  bool post = false;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) {
      post = false;
    } else {
      in_publish_.push_back(Incoming{std::string(topic), std::string(payload), binary});
      queued_.fetch_add(1, std::memory_order_relaxed);
      queued_bytes_.fetch_add(bytes, std::memory_order_relaxed);
      post = !wake_posted_;
      wake_posted_ = true;
      if (!post) return;
    }
  }
  if (!post) {
    refuse("broker stopped");
    return;
  }
  asio::post(io_, [this] { drain_mailbox(); });
}

void BrokerCore::interest(std::string_view topic, bool added) {
  bool post = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    in_interest_.emplace_back(std::string(topic), added);
    // Before start() the mailbox simply fills; start() runs it.
    if (started_ && !wake_posted_) {
      wake_posted_ = true;
      post = true;
    }
  }
  if (post) asio::post(io_, [this] { drain_mailbox(); });
}

server::BrokerHealth BrokerCore::health() const {
  server::BrokerHealth h;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  h.connected = connected_.load(std::memory_order_relaxed);
  h.messages_received = get(received_);
  h.messages_published = get(published_);
  h.messages_delivered = get(delivered_);
  h.messages_dropped = get(dropped_);
  h.publish_errors = get(publish_errors_);
  h.reconnect_count = get(reconnects_);
  h.dlq_size = dlq_.size();
  const std::uint8_t m = mode_public_.load(std::memory_order_relaxed);
  h.mode = options_.raw_compat ? (m == 0 ? "connecting" : "compat")
                               : (m == 0 ? "connecting" : (m == 1 ? "standalone" : "cluster"));
  h.duplicates_suppressed = get(duplicates_);
  h.pending = queued_.load(std::memory_order_relaxed);
  h.subscriptions = get(subscriptions_);
  h.nodes = get(nodes_);
  h.nodes_connected = get(nodes_connected_);
  h.dlq_evicted = dlq_.evicted();
  h.cluster_patterns = get(cluster_patterns_);
  h.lane_copy_errors = get(copy_errors_);
  h.connect_breaker = std::string(breaker_name(conn_breaker_.load(std::memory_order_relaxed)));
  h.publish_breaker = std::string(breaker_name(pub_breaker_.load(std::memory_order_relaxed)));
  std::lock_guard lock(error_mu_);
  h.last_error = last_error_;
  return h;
}

// ---- broker thread: mailbox, tick, stop ---------------------------------------

void BrokerCore::drain_mailbox() {
  std::vector<Incoming> pubs;
  std::vector<std::pair<std::string, bool>> interests;
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    pubs.swap(in_publish_);
    interests.swap(in_interest_);
    wake_posted_ = false;
    stopping = stopped_;
  }
  if (stopping) {
    for (auto& in : pubs) {
      PublishItem item;
      item.topic = std::move(in.topic);
      item.payload = std::move(in.payload);
      item.binary = in.binary;
      item.channel = channel_for(item.topic);
      dead_letter(std::move(item), "broker stopped");
    }
    return;
  }
  for (auto& [topic, added] : interests) apply_interest(topic, added);
  for (auto& in : pubs) route_new(std::move(in));
  if (own_dirty_) announce_patterns(Clock::now());
  for (auto& link : links_) {
    link->flush();
    link->reconcile();
  }
}

void BrokerCore::arm_tick() {
  tick_->expires_after(kTick);
  tick_->async_wait([this](const asio::error_code& ec) {
    if (!ec) on_tick();
  });
}

void BrokerCore::on_tick() {
  const auto now = Clock::now();
  retired_.clear();
  std::vector<NodeLink*> snapshot;
  for (auto& l : links_) snapshot.push_back(l.get());
  for (NodeLink* l : snapshot)
    if (alive(l)) l->tick(now);
  if (mode_ == Mode::Unknown && !links_.empty()) {
    NodeLink& seed = *links_[0];
    if (seed.cmd_ready() && !detect_in_flight_ && now - last_detect_ > kWaitLimit) link_ready(seed);
    if (!seed.holding_ && !seed.cmd_ready()) dead_letter_held("Redis disconnected");
  }
  if (cluster()) {
    if (refresh_in_flight_ && now - refresh_sent_at_ > kCommandTimeout) refresh_in_flight_ = false;
    if ((refresh_wanted_ || now - last_refresh_ > options_.topology_refresh) && !refresh_in_flight_ &&
        now - refresh_sent_at_ >= kRefreshMinInterval)
      send_refresh(now);
    if (!compat()) {
      if (own_dirty_ || (announced_ && now - last_announce_ > options_.registry_refresh))
        announce_patterns(now);
      if (registry_get_in_flight_ && now - registry_sent_at_ > kCommandTimeout)
        registry_get_in_flight_ = false;
      if (registry_get_wanted_ || now - last_registry_get_ > options_.registry_refresh) read_registry(now);
      if (!registry_loaded_ && now - registry_wait_since_ > kWaitLimit) {
        record_error("the cluster pattern registry could not be read; publishing without fleet patterns");
        registry_loaded_ = true;
      }
    }
    while (!unrouted_.empty() && now - unrouted_.front().due > kWaitLimit) {
      PublishItem item = std::move(unrouted_.front());
      unrouted_.pop_front();
      const auto slot = key_slot(item.channel);
      dead_letter(std::move(item), "no Redis Cluster node serves slot " + std::to_string(slot));
    }
  }
  if (now - last_expire_ > std::chrono::seconds(1)) {
    filter_.expire(now);
    last_expire_ = now;
  }
  flush_unrouted();
  update_health();
  arm_tick();
}

void BrokerCore::dead_letter_held(const std::string& error) {
  std::deque<Incoming> held;
  held.swap(held_);
  for (auto& in : held) {
    PublishItem item;
    item.topic = std::move(in.topic);
    item.payload = std::move(in.payload);
    item.binary = in.binary;
    item.channel = channel_for(item.topic);
    dead_letter(std::move(item), error);
  }
}

void BrokerCore::begin_stop() {
  drain_mailbox();  // stopped_ is set: what is left goes to the dead-letter ring
  dead_letter_held("broker stopped");
  for (auto& item : unrouted_) dead_letter(std::move(item), "broker stopped");
  unrouted_.clear();
  auto finish = [this] {
    std::vector<PublishItem> left;
    for (auto& l : links_) l->shutdown(&left);
    for (auto& item : left) dead_letter(std::move(item), "broker stopped");
    links_.clear();
    retired_.clear();
    if (tick_) tick_->cancel();
    work_.reset();
    io_.stop();
  };
  NodeLink* reg = cluster() && !compat() && announced_ ? link_for(kRegistryKey) : nullptr;
  if (reg != nullptr && reg->command(CmdKind::Other, {"HDEL", kRegistryKey, own_id()})) {
    reg->command(CmdKind::Other, {"SPUBLISH", kRegistryChannel, own_id()});
    // Give the unannouncement a moment to leave; the loop keeps running meanwhile.
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
    timer->async_wait([timer, finish](const asio::error_code&) { finish(); });
    return;
  }
  finish();
}

// ---- accounting ----------------------------------------------------------------

void BrokerCore::item_done(const PublishItem& item) {
  if (item.copy) return;
  queued_.fetch_sub(1, std::memory_order_relaxed);
  queued_bytes_.fetch_sub(item.topic.size() + item.payload.size(), std::memory_order_relaxed);
}

void BrokerCore::published(const PublishItem& item) {
  if (item.copy) return;
  published_.fetch_add(1, std::memory_order_relaxed);
  item_done(item);
}

void BrokerCore::dead_letter(PublishItem&& item, std::string error) {
  if (item.copy) {
    // A pattern-lane copy: the message itself (the primary copy) is dead-lettered or
    // acknowledged on its own; a lost copy is counted (the lane's subscribers miss it).
    copy_errors_.fetch_add(1, std::memory_order_relaxed);
    record_error("a pattern-lane copy on " + item.channel + " was not published: " + error);
    return;
  }
  publish_errors_.fetch_add(1, std::memory_order_relaxed);
  item_done(item);
  dlq_.push(
      server::DeadLetter{channel_for(item.topic), std::move(item.payload), std::move(error), item.binary});
}

void BrokerCore::record_error(const std::string& error) {
  std::lock_guard lock(error_mu_);
  last_error_ = error;
}

void BrokerCore::update_health() {
  bool all = mode_ != Mode::Unknown && !links_.empty();
  std::uint64_t subs = 0, up = 0;
  std::uint8_t cb = 0, pb = 0;
  for (const auto& l : links_) {
    const bool ok = l->cmd_ready() && l->sub_ready();
    all = all && ok;
    up += ok ? 1 : 0;
    subs += l->confirmed();
    cb = std::max(cb, breaker_rank(l->connect_breaker()));
    pb = std::max(pb, breaker_rank(l->publish_breaker()));
  }
  connected_.store(all, std::memory_order_relaxed);
  subscriptions_.store(subs, std::memory_order_relaxed);
  nodes_.store(mode_ == Mode::Unknown ? 0 : links_.size(), std::memory_order_relaxed);
  nodes_connected_.store(up, std::memory_order_relaxed);
  conn_breaker_.store(cb, std::memory_order_relaxed);
  pub_breaker_.store(pb, std::memory_order_relaxed);
  mode_public_.store(mode_ == Mode::Unknown ? 0 : (mode_ == Mode::Standalone ? 1 : 2),
                     std::memory_order_relaxed);
}

}  // namespace wse::cluster
