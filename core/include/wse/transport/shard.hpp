#pragma once
// One I/O thread: its own event loop (Asio io_context), the connections pinned
// to it for their whole life, and the topic index of those connections, so
// delivery on a shard takes no lock.
//
// Connection sockets are not Asio sockets: they sit, edge-triggered and
// registered once, in the shard's own epoll set, which is itself one descriptor
// in Asio's loop. An Asio wait per read would re-arm the socket with an
// epoll_ctl() call on every read and allocate an operation per wait; here a read
// costs the recv() alone, and an idle connection carries no Asio state at all.
//
// Other threads talk to a shard only through post_*(): each call appends a task
// to the shard's mailbox (one short mutex) and wakes the loop once. The loop
// runs every waiting task, then flushes every connection that got output, so
// many publishes to one socket leave in one vectored write.
#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wse/topics/topic_index.hpp"
#include "wse/transport/config.hpp"
#include "wse/transport/inbound.hpp"
#include "wse/transport/shared_frame.hpp"
#include "wse/util/unique_fd.hpp"

namespace wse::transport {

struct Connection;  // private to shard.cpp

// Counters of one shard; summed by the server on read. Relaxed atomics: they
// are statistics, not synchronisation.
struct ShardCounters {
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> connections_closed{0};
  std::atomic<std::uint64_t> handshakes_rejected{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> frames_out{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> write_calls{0};
  std::atomic<std::uint64_t> slow_consumer_closed{0};
  std::atomic<std::uint64_t> slow_consumer_dropped{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> idle_closed{0};
  std::atomic<std::uint64_t> pings_answered{0};
  std::atomic<std::uint64_t> deliveries{0};  // topic and broadcast deliveries queued
  std::atomic<std::uint64_t> open_now{0};
};

// What a shard needs from the server that owns it. Called on the shard thread.
class ShardHost {
 public:
  virtual ~ShardHost() = default;
  // Takes one of max_connections slots; false when full (the upgrade gets 503).
  virtual bool reserve_slot() = 0;
  virtual void release_slot() = 0;
  // Registry bookkeeping; also queue the connect / disconnect events.
  virtual void connection_opened(const std::shared_ptr<ConnInfo>& info) = 0;
  virtual void connection_closed(const std::shared_ptr<ConnInfo>& info) = 0;
  // Client-initiated subscribe/unsubscribe accepted by the policy: registry mirror.
  virtual void topics_changed(const std::shared_ptr<ConnInfo>& info, const std::vector<std::string>& added,
                              const std::vector<std::string>& removed) = 0;
  virtual InboundQueue& inbound() = 0;
  // HTTP endpoints on the WebSocket port.
  virtual std::string health_json() = 0;
  virtual std::string metrics_text() = 0;
  // Verifies a JWT; on success fills user_id. nullopt = auth disabled.
  // Returns false with an error code/message on failure.
  virtual bool authenticate(std::string_view token, std::string& user_id, std::string& code,
                            std::string& message) = 0;
  virtual bool auth_enabled() const = 0;
};

class Shard {
 public:
  Shard(std::uint32_t index, const ServerConfig& config, ShardHost& host);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void start();          // spawns the thread
  void stop_and_join();  // stops the loop (after close_all has had its chance)
  asio::io_context& io() noexcept { return io_; }
  std::uint32_t index() const noexcept { return index_; }
  const ShardCounters& counters() const noexcept { return counters_; }

  // Thread-safe. A non-blocking TCP socket accepted on another thread, handed
  // over to this shard (which closes it if it is stopping).
  void post_adopt(util::UniqueFd socket);
  void post_send(std::uint64_t serial, FrameRef frame);
  // Several frames, each to its connection (by serial), in order: one task.
  void post_sends(std::vector<std::pair<std::uint64_t, FrameRef>> sends);
  void post_publish(std::string topic, FrameRef frame);
  void post_broadcast(FrameRef frame);
  void post_subscribe(std::uint64_t serial, std::vector<std::string> topics);
  void post_unsubscribe(std::uint64_t serial, std::vector<std::string> topics);
  void post_disconnect(std::uint64_t serial, std::uint16_t code, std::string reason);
  void post_close_all(std::uint16_t code, std::string reason);
  // Connections still alive on this shard (including HTTP and closing ones).
  std::size_t live_connections() const noexcept { return live_.load(std::memory_order_acquire); }

 private:
  friend struct ParseHandler;
  enum class TaskKind : std::uint8_t {
    Adopt,
    Send,
    SendBatch,
    Publish,
    Broadcast,
    Subscribe,
    Unsubscribe,
    Disconnect,
    CloseAll
  };
  struct Task {
    TaskKind kind = TaskKind::Send;
    std::uint64_t serial = 0;
    FrameRef frame;
    std::string text;  // topic or close reason
    std::vector<std::string> topics;
    std::uint16_t code = 0;
    util::UniqueFd socket;                                  // Adopt
    std::vector<std::pair<std::uint64_t, FrameRef>> sends;  // SendBatch
  };
  void post(Task task);
  void run_tasks();
  void run_task(Task& task);
  // Delivers one frame (or a concat() of several) to the subscribers of a topic.
  void deliver(std::string_view topic, const FrameRef& frame);
  // Runs running_[first, last), consecutive publishes to one topic, as one delivery.
  void publish_run(std::size_t first, std::size_t last);

  // Connection life.
  void adopt(util::UniqueFd socket);
  void arm_poller();
  void poll_connections();  // one epoll_wait() of the connection set, and its events
  void read_later(Connection* c);
  void run_read_later();
  void arm_write(Connection* c);
  void on_readable(Connection* c);
  void process_input(Connection* c, char* data, std::size_t size);
  std::size_t handle_head(Connection* c, std::string_view head);
  void respond_http(Connection* c, int status, std::string_view content_type, std::string_view body,
                    std::string_view extra_headers = {});
  void open_websocket(Connection* c, const std::string& ws_key, const std::string& query, std::string user_id,
                      std::string cookie);
  void on_message(Connection* c, protocol::Opcode op, std::string_view payload);
  void on_text(Connection* c, std::string_view text);
  void on_json(Connection* c, std::string_view json);
  void on_encrypted(Connection* c, std::string_view blob);  // an inbound E: body
  void answer_hello(Connection* c, const std::string& client_key);
  void handle_subscription(Connection* c, std::string_view action, const std::vector<std::string>& topics,
                           bool topics_valid);
  bool rate_allows(Connection* c);
  void enqueue(Connection* c, FrameRef frame);
  void send_text_now(Connection* c, std::string_view text);
  void flush(Connection* c);
  void flush_dirty();
  void start_close(Connection* c, std::uint16_t code, std::string_view reason);
  void on_peer_close(Connection* c, std::uint16_t code);
  void unregister(Connection* c);
  void abort(Connection* c);
  void collect_garbage();
  void tick();
  void arm_tick();
  Connection* find(std::uint64_t serial);
  void push_event(InboundKind kind, Connection* c, std::string_view data);
  void flush_events();

  const std::uint32_t index_;
  const ServerConfig& config_;
  ShardHost& host_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  int epoll_fd_;                           // the connection set; owned (closed) by poller_
  asio::posix::stream_descriptor poller_;  // epoll_fd_ as one descriptor of Asio's loop
  std::vector<Connection*> read_later_;    // read budget spent with bytes left: read next turn
  bool read_later_posted_ = false;
  std::thread thread_;
  ShardCounters counters_;
  std::atomic<std::size_t> live_{0};

  std::mutex mailbox_mu_;
  std::vector<Task> mailbox_;
  bool wake_posted_ = false;
  std::atomic<int> poster_cpu_{-1};  // CPU of the thread whose post woke the loop
  std::vector<Task> running_;        // tasks being run (swapped with the mailbox)

  // Open WebSocket connections by slot. A serial is (generation << 32 | slot), so
  // a stale serial of a reused slot is recognised; 8 bytes per connection
  // instead of a hash-map node.
  std::vector<Connection*> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t generation_ = 0;
  std::vector<Connection*> all_;  // every live connection, for ticks and shutdown
  std::vector<Connection*> dirty_;
  std::vector<Connection*> dead_;
  std::unique_ptr<InboundBatch> events_;  // batched per epoll round, pushed at once
  // About what the recent batches held: the next one reserves as much (busy turns
  // are alike), with an eighth more room (see flush_events()).
  std::size_t batch_bytes_hint_ = 0;
  std::size_t batch_events_hint_ = 0;
  topics::TopicIndex<Connection> index_topics_;
  std::uint64_t epoch_ = 0;
  std::unique_ptr<char[]> read_buf_;  // one per thread, shared by all its connections
  // Clock read once at the start of each loop handler (poll, tasks, tick, read
  // later): the receive, send and rate-limit time of everything that handler
  // does, instead of a clock read per recv(), sendmsg() and message.
  std::int64_t turn_now_ns_ = 0;
  std::uint64_t messages_in_ = 0;  // messages of the socket being read, not yet in counters_
  bool closing_all_ = false;
};

}  // namespace wse::transport
