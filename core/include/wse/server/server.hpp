#pragma once
// The standalone server: N I/O shards (wse/transport/shard.hpp), one listening
// socket, the registry of open connections that the Python API addresses by
// conn_id, and the inbound queue that Python drains.
//
// Thread-safety: every public member may be called from any thread (Python
// threads, with the GIL released). Calls on an unknown or closed conn_id are
// no-ops that return false; calls before start() throw wse::NotRunning.
// Lock order: registry mutex, then a ConnInfo's mutex; never during I/O.
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wse/auth/jwt.hpp"
#include "wse/server/broker.hpp"
#include "wse/topics/topic_index.hpp"
#include "wse/transport/config.hpp"
#include "wse/transport/inbound.hpp"
#include "wse/transport/shard.hpp"
#include "wse/transport/shared_frame.hpp"

namespace wse::server {

// Sums of the shards' counters plus server-level figures.
struct Health {
  std::size_t connections = 0;
  std::size_t inbound_queue_depth = 0;
  std::uint64_t inbound_dropped = 0;
  std::uint64_t inbound_drained = 0;
  double uptime_secs = 0;
  std::uint64_t connections_opened = 0, connections_closed = 0, handshakes_rejected = 0, auth_failures = 0;
  std::uint64_t messages_in = 0, bytes_in = 0, frames_out = 0, bytes_out = 0, write_calls = 0;
  std::uint64_t deliveries = 0, slow_consumer_closed = 0, slow_consumer_dropped = 0, rate_limited = 0;
  std::uint64_t protocol_errors = 0, idle_closed = 0, pings_answered = 0;
  std::size_t io_threads = 0;
};

class Server final : private transport::ShardHost {
 public:
  // Validates the configuration (wse::InvalidArgument naming the field).
  explicit Server(transport::ServerConfig config);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (wse::OperationFailed with the OS reason if it cannot),
  // then starts the I/O threads. Returns once connections are being accepted.
  void start();
  // Graceful: stop accepting, close every connection with 1012, give peers up
  // to `grace` to answer, then join the threads. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  std::uint16_t port() const noexcept { return bound_port_; }
  const transport::ServerConfig& config() const noexcept { return config_; }

  // Looks up an open connection (nullptr if unknown or closed).
  std::shared_ptr<transport::ConnInfo> find(std::string_view conn_id) const;
  // Queues a prepared frame to one connection. False if the connection is unknown/closed.
  bool send_frame(const transport::ConnInfo& conn, transport::FrameRef frame);
  bool send_frame(std::string_view conn_id, transport::FrameRef frame);
  // Each frame (or concat of frames) to its connection, in order per connection:
  // one registry lock and one task per I/O thread for the whole batch. Frames of
  // unknown or closed connections are dropped. Returns how many messages were queued.
  std::size_t send_frames(std::vector<std::pair<std::string_view, transport::FrameRef>>& batch);
  // To every open connection / to every subscriber of `topic` (exact or glob),
  // at most once per connection. The frame is shared, never copied.
  void broadcast(transport::FrameRef frame);
  void publish_local(std::string_view topic, transport::FrameRef frame);
  // Through the broker when one is set (the broker delivers back to every
  // instance, this one included), else the same as publish_local.
  void publish(std::string_view topic, std::string_view payload, bool binary);

  // Installs (or, with nullptr, removes) the broker that carries publish() between
  // instances. May be called before or after start(); current interests are
  // replayed to the new broker. The server stops it in stop().
  void set_broker(std::shared_ptr<Broker> broker);
  std::shared_ptr<Broker> broker() const;

  bool subscribe(std::string_view conn_id, const std::vector<std::string>& topics);
  // nullopt = every topic of the connection.
  bool unsubscribe(std::string_view conn_id, const std::optional<std::vector<std::string>>& topics);
  std::size_t topic_subscriber_count(std::string_view topic) const;
  std::vector<std::string> connection_topics(std::string_view conn_id) const;
  std::size_t connection_count() const;
  std::vector<std::string> connection_ids() const;
  bool disconnect(std::string_view conn_id, std::uint16_t code, std::string_view reason);

  transport::InboundQueue& inbound_queue() noexcept { return inbound_; }
  Health health() const;
  std::string health_json() override;
  std::string metrics_text() override;

 private:
  // ShardHost
  bool reserve_slot() override;
  void release_slot() override;
  void connection_opened(const std::shared_ptr<transport::ConnInfo>& info) override;
  void connection_closed(const std::shared_ptr<transport::ConnInfo>& info) override;
  void topics_changed(const std::shared_ptr<transport::ConnInfo>& info, const std::vector<std::string>& added,
                      const std::vector<std::string>& removed) override;
  transport::InboundQueue& inbound() override { return inbound_; }
  bool authenticate(std::string_view token, std::string& user_id, std::string& code,
                    std::string& message) override;
  bool auth_enabled() const override { return jwt_.has_value(); }

  void require_running(const char* what) const;
  // Topic interest bookkeeping (registry mutex held); tells the broker about
  // the first and the last local subscriber of a topic or pattern.
  void count_up(const std::string& topic);
  void count_down(const std::string& topic);
  void accept_next();

  const transport::ServerConfig config_;
  std::optional<auth::JwtOptions> jwt_;
  std::vector<std::unique_ptr<transport::Shard>> shards_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  std::size_t next_shard_ = 0;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<std::size_t> slots_{0};
  std::chrono::steady_clock::time_point started_at_{};
  transport::InboundQueue inbound_;

  mutable std::mutex registry_mu_;
  // Keys view ConnInfo::id, which the mapped shared_ptr keeps alive (saves a copy per connection).
  std::unordered_map<std::string_view, std::shared_ptr<transport::ConnInfo>> conns_;
  std::unordered_map<std::string, std::size_t, topics::StringHash, std::equal_to<>> topic_counts_;
  std::shared_ptr<Broker> broker_;  // guarded by registry_mu_
};

}  // namespace wse::server
