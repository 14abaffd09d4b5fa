#pragma once
// RedisBroker: the server::Broker that carries publishes between WSE instances
// through Redis (one server, or a Redis Cluster through sharded pub/sub).
// docs/ARCHITECTURE.md ("Scale-out") tours it; docs/PROTOCOL.md ("Redis")
// specifies what it puts on Redis.
//
// Guarantees (on top of server::Broker's):
//  - publish() never blocks: it appends to a mailbox (one short mutex) and
//    returns. Past `max_pending` queued publishes, or while Redis is known to be
//    down, or while the publish breaker is open, the message goes to the
//    dead-letter ring instead, with the reason, and is counted.
//  - Exactly once: a header (publisher id, sequence) on every payload lets each
//    instance drop the copies Redis hands it when a topic matches several of its
//    subscriptions, and publishes retried after a lost connection that Redis had
//    already executed. Raw payloads from other processes are deduplicated by
//    counting the notifications one PUBLISH produces (standalone Redis).
//  - Order: per publisher and topic, delivery follows publish order, except for a
//    publish that Redis rejected with an error and that succeeded on a retry.
//  - Interest-based routing: only the channels and patterns that local
//    connections need are subscribed (raw_compat mode: `PSUBSCRIBE wse:*`).
// Limits (Redis pub/sub keeps no history): an instance misses what others
// publish while its subscription is being re-established after a reconnection;
// during a cluster failover or slot migration, messages of the moving slot can
// be lost, or duplicated if they were in flight to a failing master. Each is
// visible in the counters; nothing the broker itself gives up on is silent.
// Threads: one broker thread runs an Asio loop with every Redis connection;
// `deliver` is called on it. All public members are thread-safe.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wse/cluster/backoff.hpp"
#include "wse/cluster/circuit_breaker.hpp"
#include "wse/cluster/redis_url.hpp"
#include "wse/server/broker.hpp"

namespace wse::cluster {

enum class RedisMode : std::uint8_t {
  Auto,        // ask the server (CLUSTER SLOTS) and follow its answer
  Standalone,  // one Redis server: SUBSCRIBE / PSUBSCRIBE / PUBLISH
  Cluster,     // Redis Cluster: SSUBSCRIBE / SPUBLISH routed by slot
};

struct RedisBrokerOptions {
  RedisUrl url;
  RedisMode mode = RedisMode::Auto;
  // WSE 1.4 wire compatibility: PSUBSCRIBE wse:* and PUBLISH of raw payloads
  // (no header), so WSE 1.4 instances and PubSubBus processes interoperate.
  // Classic pub/sub even on a cluster (every node sees every message).
  bool raw_compat = false;
  std::size_t max_pending = 1'000'000;         // publishes queued or in flight
  std::size_t max_pending_bytes = 256u << 20;  // their payload bytes
  std::size_t max_in_flight = 65536;           // pipelined publishes awaiting replies, per node
  std::size_t dlq_capacity = 1000;
  BackoffPolicy backoff;          // reconnect delays (1 s, x1.5, 60 s, +-20 %)
  BreakerPolicy connect_breaker;  // 10 failures, open 60 s, 3 probes
  BreakerPolicy publish_breaker;
  std::uint32_t publish_attempts = 3;  // first try + retries
  std::vector<std::chrono::milliseconds> retry_delays{std::chrono::milliseconds(100),
                                                      std::chrono::milliseconds(200)};
  std::chrono::milliseconds ping_interval{5000};  // idle connections are pinged
  std::chrono::milliseconds ping_timeout{15000};  // no answer for this long: reconnect
  std::chrono::milliseconds topology_refresh{30000};
  std::chrono::milliseconds registry_refresh{10000};  // cluster pattern registry heartbeat
  std::chrono::milliseconds registry_ttl{30000};
  std::string client_name = "wse";
};

class BrokerCore;  // core/src/cluster/broker_core.hpp

class RedisBroker final : public server::Broker {
 public:
  // Validates the options and prepares TLS (wse::InvalidArgument for unreadable
  // certificate files or bad values). Connects only in start().
  explicit RedisBroker(RedisBrokerOptions options);
  ~RedisBroker() override;
  RedisBroker(const RedisBroker&) = delete;
  RedisBroker& operator=(const RedisBroker&) = delete;

  // Starts the broker thread and connects. `deliver` is called on that thread.
  // A stopped broker cannot be started again.
  void start(Deliver deliver) override;
  // Unannounces cluster patterns (best effort), moves unsent publishes to the
  // dead-letter ring ("broker stopped"), closes the connections, joins the thread.
  // Idempotent. Health and dead letters stay readable afterwards.
  void stop() override;
  void publish(std::string_view topic, std::string_view payload, bool binary) override;
  void interest_added(std::string_view topic_or_pattern) override;
  void interest_removed(std::string_view topic_or_pattern) override;
  server::BrokerHealth health() const override;
  std::vector<server::DeadLetter> drain_dead_letters() override;

  std::uint64_t publisher_id() const noexcept;
  const RedisBrokerOptions& options() const noexcept;

 private:
  std::unique_ptr<BrokerCore> core_;
};

}  // namespace wse::cluster
