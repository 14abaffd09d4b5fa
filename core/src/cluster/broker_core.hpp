#pragma once
// Private to core/src/cluster: the machinery behind RedisBroker.
//
//   BrokerCore  the broker thread (Asio loop), the mailbox that publish() and
//               interest_*() fill, routing (standalone, cluster slots, pattern
//               lanes), the cluster topology and pattern registry, the receive
//               path (header, duplicate filter, local interest) and the counters.
//   NodeLink    one Redis master: a command connection (pipelined publishes and
//               control commands) and a subscriber connection (subscriptions and
//               deliveries), each with its reconnect backoff; the connect and
//               publish circuit breakers; publish retry and the holding window.
//
// Everything below runs on the broker thread except the members of BrokerCore
// marked "any thread". Lock order: BrokerCore::mu_ is a leaf (nothing is locked
// under it, no I/O happens under it).
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "wse/cluster/backoff.hpp"
#include "wse/cluster/circuit_breaker.hpp"
#include "wse/cluster/cluster_topology.hpp"
#include "wse/cluster/dead_letter_ring.hpp"
#include "wse/cluster/duplicate_filter.hpp"
#include "wse/cluster/pattern_registry.hpp"
#include "wse/cluster/pubsub_message.hpp"
#include "wse/cluster/redis_broker.hpp"
#include "wse/cluster/redis_connection.hpp"

namespace wse::cluster {

using Clock = std::chrono::steady_clock;

// One message on its way to Redis (or one pattern-lane copy of it).
struct PublishItem {
  std::string topic;
  std::string payload;
  std::string channel;  // the Redis channel it is published on
  bool binary = false;
  bool copy = false;   // a cluster pattern-lane copy: channel is wse:<pattern>, the header names the topic
  bool multi = false;  // one of several copies of one publish
  std::uint8_t attempts = 0;   // failed attempts so far
  std::uint8_t redirects = 0;  // MOVED / ASK followed
  bool ambiguous = false;      // was in flight when a connection was lost
  std::uint64_t seq = 0;
  std::uint64_t message_id = 0;
  Clock::time_point due{};  // when a retry may go
};

enum class SubKind : std::uint8_t { Channel, Pattern, Sharded };

enum class CmdKind : std::uint8_t { Publish, DetectSlots, RefreshSlots, RegistryGet, Other, Ping };

class BrokerCore;

class NodeLink final : public RedisConnectionHandler {
 public:
  NodeLink(BrokerCore& core, NodeAddress address, std::uint32_t source);
  ~NodeLink() override;
  NodeLink(const NodeLink&) = delete;
  NodeLink& operator=(const NodeLink&) = delete;

  void start();
  // Closes both connections silently; appends every unsent or unanswered item to `out`.
  void shutdown(std::vector<PublishItem>* out);

  // Publishing. enqueue() holds, sends or dead-letters according to the state.
  void enqueue(PublishItem&& item);
  void flush();
  // Control commands on the command connection; false if it is not ready.
  bool command(CmdKind kind, std::initializer_list<std::string_view> args);

  // Subscriptions: `name` is the Redis channel or pattern, `topic` the topic or glob.
  void desire(SubKind kind, const std::string& name, const std::string& topic, bool want);

  void tick(Clock::time_point now);

  const NodeAddress& address() const noexcept { return address_; }
  std::uint32_t source() const noexcept { return source_; }
  bool cmd_ready() const noexcept { return cmd_.conn && cmd_.conn->ready(); }
  bool sub_ready() const noexcept { return sub_.conn && sub_.conn->ready(); }
  std::size_t pending() const noexcept { return pending_.size() + retry_.size() + in_flight_; }
  std::size_t confirmed() const noexcept { return confirmed_count_; }
  BreakerState connect_breaker() const noexcept { return conn_breaker_.state(); }
  BreakerState publish_breaker() const noexcept { return pub_breaker_.state(); }

 private:
  struct Role {
    std::shared_ptr<RedisConnection> conn;
    Backoff backoff;
    std::size_t fast_retries = 0;  // index into retry_delays after a lost connection
    Clock::time_point next_attempt{};
    bool scheduled = false;
    bool ever_ready = false;
    std::uint64_t last_bytes = 0;
    Clock::time_point last_activity{};
    bool ping_outstanding = false;
    Clock::time_point ping_sent{};
  };
  struct SubState {
    SubKind kind = SubKind::Channel;
    std::string topic;
    bool desired = false;
    bool confirmed = false;
    std::uint32_t in_flight = 0;
    bool queued = false;  // listed in dirty_
    Clock::time_point retry_at{};
  };
  struct SubCommand {
    bool ping = false;
    bool subscribe = false;
    SubKind kind = SubKind::Channel;
    std::string name;
  };
  struct CmdEntry {
    CmdKind kind = CmdKind::Other;
    PublishItem item;
  };

  // RedisConnectionHandler
  void on_ready(RedisConnection& conn) override;
  void on_reply(RedisConnection& conn, RespValue&& reply) override;
  void on_closed(RedisConnection& conn, const std::string& reason, bool established) override;
  void on_batch_end(RedisConnection& conn) override;

  void connect(Role& role, bool is_sub);
  void lost(Role& role, bool is_sub, const std::string& reason, bool established);
  void schedule(Role& role, Clock::time_point now, bool after_loss);
  void on_cmd_reply(RespValue& reply);
  void on_sub_reply(RespValue& reply);
  void publish_failed(PublishItem&& item, const std::string& error);
  void drop_pending(const std::string& reason);
  void encode(const PublishItem& item, std::string& out) const;
  void reconcile();
  void mark(const std::string& name, SubState& st);
  void set_confirmed(const std::string& name, SubState& st, bool on);
  void reset_subscriptions();
  bool subscriptions_settled(Clock::time_point now);
  static std::string_view verb(SubKind kind, bool subscribe) noexcept;

  BrokerCore& core_;
  NodeAddress address_;
  std::uint32_t source_;
  Role cmd_, sub_;
  CircuitBreaker conn_breaker_, pub_breaker_;

  std::deque<PublishItem> pending_;  // in sequence order (see PublishItem::seq)
  std::deque<CmdEntry> expect_;      // command replies, in order
  std::size_t in_flight_ = 0;        // Publish entries in expect_
  std::vector<PublishItem> retry_;   // rejected by Redis, waiting for `due`
  bool holding_ = true;              // keep items while a (re)connection is being tried
  Clock::time_point hold_until_{};
  // After the subscriber connection (re)connects, publishes wait (at most
  // kResubscribeWait) until its subscriptions are back, so that this instance's
  // own subscribers do not miss what it publishes meanwhile.
  bool resubscribing_ = true;
  Clock::time_point resubscribe_since_{};

  std::unordered_map<std::string, SubState> subs_;
  std::vector<std::string> dirty_;      // subs_ keys to reconcile
  std::vector<std::string> sub_retry_;  // subs_ keys refused by Redis, retried after retry_at
  std::deque<SubCommand> sub_expect_;
  std::size_t confirmed_count_ = 0;
  // Confirmed subscriptions, for counting the copies of raw messages.
  std::unordered_set<std::string, PatternSet::Hash, std::equal_to<>> confirmed_channels_;
  std::multiset<std::string> confirmed_globs_;
  RawCopyCounter raw_counter_;

  friend class BrokerCore;
};

class BrokerCore {
 public:
  explicit BrokerCore(RedisBrokerOptions options);
  ~BrokerCore();

  // Any thread.
  void start(server::Broker::Deliver deliver);
  void stop();
  void publish(std::string_view topic, std::string_view payload, bool binary);
  void interest(std::string_view topic, bool added);
  server::BrokerHealth health() const;
  std::vector<server::DeadLetter> drain_dead_letters() { return dlq_.drain(); }
  std::uint64_t publisher_id() const noexcept { return publisher_; }
  const RedisBrokerOptions& options() const noexcept { return options_; }

  // Broker thread, used by NodeLink.
  asio::io_context& io() noexcept { return io_; }
  asio::ssl::context* tls() noexcept { return tls_.get(); }
  bool cluster() const noexcept { return mode_ == Mode::Cluster; }
  bool compat() const noexcept { return options_.raw_compat; }
  std::string client_name(bool sub) const;
  std::uint64_t next_seq() noexcept { return ++seq_; }
  double unit_random();
  void dead_letter(PublishItem&& item, std::string error);
  // Every publish held while the mode was unknown, to the dead-letter ring.
  void dead_letter_held(const std::string& error);
  void published(const PublishItem& item);
  void item_done(const PublishItem& item);  // left the broker (acknowledged or dead-lettered)
  void record_error(const std::string& error);
  void count_reconnect() { reconnects_.fetch_add(1, std::memory_order_relaxed); }
  void on_cmd_result(NodeLink& link, CmdKind kind, RespValue& reply);
  void on_delivery(NodeLink& link, const PushMessage& msg);
  void redirect(NodeLink& from, PublishItem&& item, const Redirect& where);
  void request_refresh();
  void link_ready(NodeLink& link);

 private:
  enum class Mode : std::uint8_t { Unknown, Standalone, Cluster };
  struct Incoming {
    std::string topic;
    std::string payload;
    bool binary = false;
  };

  void wake();
  void drain_mailbox();
  void on_tick();
  void arm_tick();
  void begin_stop();
  void route_new(Incoming&& in);
  void send_refresh(Clock::time_point now);
  void recompute_fleet_patterns();
  bool alive(const NodeLink* link) const noexcept;
  std::string own_id() const;
  void route(PublishItem&& item);
  NodeLink* link_for(std::string_view channel);
  NodeLink* link_at(const NodeAddress& address);
  void apply_interest(const std::string& topic, bool added);
  void place(const std::string& topic, bool want);
  void set_mode(Mode mode);
  void apply_topology(Topology topo);
  // The topology of a CLUSTER SLOTS reply with at least one master; nullopt
  // (and the reason in last_error) otherwise.
  std::optional<Topology> topology_from(const RespValue& reply, const NodeLink& link);
  void rehome_subscriptions();
  void flush_unrouted();
  void announce_patterns(Clock::time_point now);
  void read_registry(Clock::time_point now);  // HGETALL now, or once the one in flight has answered
  void load_registry(const RespValue& reply);
  void update_health();
  bool locally_wanted(std::string_view topic);
  std::uint32_t source_for(const NodeAddress& address);

  const RedisBrokerOptions options_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::uint64_t publisher_ = 0;
  std::mt19937_64 rng_;

  // Mailbox (any thread).
  mutable std::mutex mu_;
  std::vector<Incoming> in_publish_;
  std::vector<std::pair<std::string, bool>> in_interest_;
  bool wake_posted_ = false;
  bool accepting_ = false;  // between start() and stop()
  std::atomic<std::size_t> queued_{0}, queued_bytes_{0};

  // Broker thread.
  asio::io_context io_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<asio::steady_timer> tick_;
  std::thread thread_;
  bool started_ = false, stopped_ = false;
  server::Broker::Deliver deliver_;
  Mode mode_ = Mode::Unknown;
  std::uint64_t seq_ = 0;
  std::vector<std::unique_ptr<NodeLink>> links_;
  std::vector<std::unique_ptr<NodeLink>> retired_;  // shut down, destroyed at the next tick
  std::vector<std::uint16_t> slot_owner_;           // cluster: slot -> index into links_
  std::map<std::string, std::uint32_t> sources_;    // node address -> stable source id
  std::deque<Incoming> held_;         // waiting for the mode (and, in cluster mode, the pattern registry)
  std::deque<PublishItem> unrouted_;  // no node serves their slot yet; `due` = when they started waiting
  bool detect_in_flight_ = false;
  bool refresh_in_flight_ = false, refresh_wanted_ = false;
  Clock::time_point last_refresh_{}, refresh_sent_at_{}, last_detect_{};
  std::size_t refresh_rr_ = 0;

  std::unordered_set<std::string, PatternSet::Hash, std::equal_to<>> local_exact_;
  std::set<std::string> local_globs_;
  PatternSet local_patterns_;
  std::map<std::string, NodeLink*> placed_;  // cluster: subscription channel -> link

  // Cluster pattern registry.
  std::map<std::string, RegistryEntry> fleet_;  // other instances' entries
  PatternSet fleet_patterns_;                   // union of fleet_ and local_globs_
  bool registry_loaded_ = false, registry_get_in_flight_ = false, registry_get_wanted_ = false;
  bool own_dirty_ = false, announced_ = false;
  Clock::time_point last_announce_{}, last_registry_get_{}, registry_sent_at_{}, registry_wait_since_{};

  DuplicateFilter filter_;
  Clock::time_point last_expire_{};
  DeadLetterRing dlq_;

  // Counters (relaxed atomics: statistics, read by health() on any thread).
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> received_{0}, published_{0}, delivered_{0}, dropped_{0}, publish_errors_{0},
      reconnects_{0}, duplicates_{0}, copy_errors_{0};
  std::atomic<std::uint64_t> subscriptions_{0}, nodes_{0}, nodes_connected_{0}, cluster_patterns_{0};
  std::atomic<std::uint8_t> mode_public_{0}, conn_breaker_{0}, pub_breaker_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace wse::cluster
