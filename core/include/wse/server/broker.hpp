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
// Threads: publish() and interest_*() are called from Python threads and shard
// threads; `deliver` may be called from the broker's own thread.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wse::server {

struct BrokerHealth {
  bool connected = false;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_published = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t publish_errors = 0;
  std::uint64_t reconnect_count = 0;
  std::uint64_t dlq_size = 0;
};

struct DeadLetter {
  std::string channel;
  std::string payload;
  std::string error;
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
