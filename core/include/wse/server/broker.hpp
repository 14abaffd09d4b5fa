#pragma once
// The contract between the server and a message broker that carries topic
// messages between instances (Redis pub/sub, Redis Cluster sharded pub/sub).
//
// Guarantees a broker must give (and document):
//  - publish() never blocks the caller: it queues and returns; failures after
//    retries go to the broker's dead-letter queue and are counted, never lost
//    silently.
//  - Every message published on any instance is handed to `deliver` exactly once
//    on every instance that has local interest in its topic, including the
//    publishing instance (so the publisher must NOT also deliver locally).
//  - Per publisher and topic, messages are delivered in publish order.
//  - Interest: the server calls interest_added(topic) when the first local
//    connection subscribes to an exact topic or glob pattern and
//    interest_removed(topic) when the last one leaves; a broker subscribes only
//    to what is needed (interest-based routing).
// What a broker cannot promise must be said where it is implemented (for Redis:
// an instance misses what is published while its own subscription is being
// re-established, since pub/sub keeps no history; see wse/cluster/redis_broker.hpp).
// Threads: publish() and interest_*() are called from Python threads and shard
// threads, interest_*() with the server's registry mutex held, so they must only
// queue; `deliver` is called from the broker's own thread and must not block.
// health() and drain_dead_letters() may be called from any thread, also after stop().
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wse::server {

// A snapshot of a broker's counters. The first block are the seed's
// `redis_*` health keys; the rest are ours. Counters only grow.
struct BrokerHealth {
  bool connected = false;                // every needed Redis connection is up
  std::uint64_t messages_received = 0;   // messages read from Redis subscriptions
  std::uint64_t messages_published = 0;  // publishes Redis acknowledged
  std::uint64_t messages_delivered = 0;  // messages handed to local fan-out (once each)
  std::uint64_t messages_dropped = 0;  // received but not delivered: duplicates, no local interest, malformed
  std::uint64_t publish_errors = 0;    // publishes that went to the dead-letter queue
  std::uint64_t reconnect_count = 0;   // reconnection attempts after a failure or a lost connection
  std::uint64_t dlq_size = 0;          // entries in the dead-letter queue now

  std::string mode;                         // "connecting", "standalone", "cluster"
  std::uint64_t duplicates_suppressed = 0;  // part of messages_dropped
  std::uint64_t pending = 0;                // publishes queued or in flight towards Redis
  std::uint64_t subscriptions = 0;          // channels and patterns Redis confirmed
  std::uint64_t nodes = 0;                  // Redis masters in use
  std::uint64_t nodes_connected = 0;
  std::uint64_t dlq_evicted = 0;           // dead letters pushed out by newer ones
  std::uint64_t cluster_patterns = 0;      // cluster mode: glob patterns announced fleet-wide
  std::uint64_t lane_copy_errors = 0;      // cluster mode: pattern-lane copies Redis never took
  std::string connect_breaker = "closed";  // worst state over the nodes
  std::string publish_breaker = "closed";
  std::string last_error;  // the most recent connection or publish error
};

// A publish that could not be handed to Redis.
struct DeadLetter {
  std::string channel;  // the Redis channel, "wse:<topic>"
  std::string payload;  // the application payload, as published
  std::string error;    // why it is here
  bool binary = false;  // published as bytes (a binary frame)
};

class Broker {
 public:
  // Called with (topic, payload, is_binary) for every message to fan out locally.
  using Deliver = std::function<void(std::string_view topic, std::string_view payload, bool binary)>;

  virtual ~Broker() = default;
  virtual void start(Deliver deliver) = 0;
  virtual void stop() = 0;
  virtual void publish(std::string_view topic, std::string_view payload, bool binary) = 0;
  virtual void interest_added(std::string_view topic_or_pattern) = 0;
  virtual void interest_removed(std::string_view topic_or_pattern) = 0;
  virtual BrokerHealth health() const = 0;
  virtual std::vector<DeadLetter> drain_dead_letters() = 0;
};

}  // namespace wse::server
