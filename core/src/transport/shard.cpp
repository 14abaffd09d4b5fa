#include "wse/transport/shard.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wse/compression/zlib.hpp"
#include "wse/protocol/envelope.hpp"
#include "wse/protocol/frame.hpp"
#include "wse/protocol/http_request.hpp"
#include "wse/protocol/spec.hpp"
#include "wse/transport/crypto_session.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/glob.hpp"
#include "wse/util/json_writer.hpp"
#include "wse/util/uuid.hpp"

namespace wse::transport {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;     // per shard, shared by its connections
constexpr int kMaxIov = 64;                            // frames coalesced into one writev
constexpr int kReadRounds = 8;                         // full reads of one socket per turn (fairness)
constexpr int kPollBatch = 256;                        // connection events taken per epoll_wait()
constexpr std::int64_t kCloseGraceNs = 3'000'000'000;  // wait for the peer's close frame
constexpr std::size_t kKeepOutCapacity = 16;           // idle connections keep at most this many slots
// Consecutive publishes to one topic found in one loop turn are merged into one
// shared buffer (one queue slot and one iovec per subscriber) up to these bounds.
constexpr std::size_t kMaxPublishRun = 256;
constexpr std::size_t kMaxPublishRunBytes = 256 * 1024;

std::int64_t now_ns() noexcept { return static_cast<std::int64_t>(util::monotonic_ns()); }

int make_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw OperationFailed(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}

}  // namespace

enum class ConnState : std::uint8_t { Http, Open, Closing, HttpClosing, Dead };

// Bytes of an incomplete request head or frame. Allocated only while something
// is pending, so an idle connection pays one pointer for it.
class Tail {
 public:
  bool empty() const noexcept { return !s_ || s_->empty(); }
  std::size_t size() const noexcept { return s_ ? s_->size() : 0; }
  char* data() { return str().data(); }
  void append(const char* d, std::size_t n) { str().append(d, n); }
  void assign(const char* d, std::size_t n) { str().assign(d, n); }
  void clear() noexcept { s_.reset(); }
  Tail& operator=(std::string&& v) {
    s_ = std::make_unique<std::string>(std::move(v));
    return *this;
  }
  void erase_front(std::size_t n) {
    if (!s_) return;
    s_->erase(0, n);
    if (s_->empty()) s_.reset();
  }

 private:
  std::string& str() {
    if (!s_) s_ = std::make_unique<std::string>();
    return *s_;
  }
  std::unique_ptr<std::string> s_;
};

struct Connection {
  Connection(util::UniqueFd s, const protocol::FrameLimits& limits) : sock(std::move(s)), parser(limits) {}

  util::UniqueFd sock;  // in the shard's epoll set from adopt() to abort()
  ConnState state = ConnState::Http;
  bool write_pending = false;  // the socket buffer was full: flush again on EPOLLOUT
  bool read_later = false;     // in Shard::read_later_
  bool dirty = false;
  bool close_after_flush = false;
  bool slot_reserved = false;
  int pending_ops = 0;  // deferred calls that still hold this pointer (read_later_)
  std::uint32_t all_index = 0;
  std::uint64_t serial = 0;
  std::uint64_t epoch = 0;
  std::shared_ptr<ConnInfo> info;
  std::unique_ptr<CryptoSession> crypto;  // only for ?encryption=true connections
  protocol::FrameParser parser;
  Tail in;
  std::vector<FrameRef> out;
  std::size_t out_head = 0;
  std::size_t out_offset = 0;  // bytes of out[out_head] already written
  std::size_t out_bytes = 0;
  std::int64_t deadline_ns = 0;  // handshake deadline while Http, close deadline while closing
  std::int64_t last_recv_ns = 0;
  std::int64_t last_send_ns = 0;
  // Inbound token bucket.
  double tokens = 0;
  std::int64_t tokens_ns = 0;
  std::uint32_t rate_dropped = 0;  // since the last warning
  std::int64_t last_warning_ns = 0;
};

// Adapter from the frame parser's events to the shard.
struct ParseHandler {
  Shard& shard;
  Connection* c;
  void on_message(protocol::Opcode op, std::string_view payload) { shard.on_message(c, op, payload); }
  void on_ping(std::string_view payload) {
    if (c->state == ConnState::Open) shard.enqueue(c, make_frame(protocol::Opcode::Pong, payload));
  }
  void on_pong(std::string_view) {}
  void on_close(std::uint16_t code, std::string_view) { shard.on_peer_close(c, code); }
  void on_protocol_error(std::uint16_t code, std::string_view why) {
    shard.counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    shard.start_close(c, code, why);
  }
};

Shard::Shard(std::uint32_t index, const ServerConfig& config, ShardHost& host)
    : index_(index),
      config_(config),
      host_(host),
      io_(1),
      work_(asio::make_work_guard(io_)),
      timer_(io_),
      epoll_fd_(make_epoll()),
      poller_(io_, epoll_fd_),
      read_buf_(new char[kReadBufferSize]) {}

Shard::~Shard() {
  stop_and_join();
  for (Connection* c : all_) delete c;
  for (Connection* c : dead_) delete c;
}

void Shard::start() {
  turn_now_ns_ = now_ns();
  arm_tick();
  arm_poller();
  thread_ = std::thread([this] {
    const std::string name = "wse-io-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    io_.run();
  });
}

void Shard::stop_and_join() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
  flush_events();  // what the loop buffered last (disconnects) still reaches the queue
}

// ---- mailbox -------------------------------------------------------------

void Shard::post(Task task) {
  // Only a fan-out (publish, broadcast) is worth a yield: the burst it lets the
  // poster queue leaves in one write per subscriber. A send reaches one
  // connection, so the next sends of a request/response loop mostly go to other
  // sockets and the yield would only add a context switch.
  const bool fan_out = task.kind == TaskKind::Publish || task.kind == TaskKind::Broadcast;
  bool wake;
  {
    std::lock_guard lock(mailbox_mu_);
    mailbox_.push_back(std::move(task));
    wake = !wake_posted_;
    wake_posted_ = true;
  }
  if (wake) {
    if (config_.coalesce_bursts) poster_cpu_.store(fan_out ? sched_getcpu() : -1, std::memory_order_relaxed);
    asio::post(io_, [this] { run_tasks(); });
  }
}

void Shard::post_adopt(util::UniqueFd socket) {
  Task t;
  t.kind = TaskKind::Adopt;
  t.socket = std::move(socket);
  post(std::move(t));
}
void Shard::post_send(std::uint64_t serial, FrameRef frame) {
  Task t;
  t.kind = TaskKind::Send;
  t.serial = serial;
  t.frame = std::move(frame);
  post(std::move(t));
}
void Shard::post_sends(std::vector<std::pair<std::uint64_t, FrameRef>> sends) {
  Task t;
  t.kind = TaskKind::SendBatch;
  t.sends = std::move(sends);
  post(std::move(t));
}
void Shard::post_publish(std::string topic, FrameRef frame) {
  Task t;
  t.kind = TaskKind::Publish;
  t.text = std::move(topic);
  t.frame = std::move(frame);
  post(std::move(t));
}
void Shard::post_broadcast(FrameRef frame) {
  Task t;
  t.kind = TaskKind::Broadcast;
  t.frame = std::move(frame);
  post(std::move(t));
}
void Shard::post_subscribe(std::uint64_t serial, std::vector<std::string> topics) {
  Task t;
  t.kind = TaskKind::Subscribe;
  t.serial = serial;
  t.topics = std::move(topics);
  post(std::move(t));
}
void Shard::post_unsubscribe(std::uint64_t serial, std::vector<std::string> topics) {
  Task t;
  t.kind = TaskKind::Unsubscribe;
  t.serial = serial;
  t.topics = std::move(topics);
  post(std::move(t));
}
void Shard::post_disconnect(std::uint64_t serial, std::uint16_t code, std::string reason) {
  Task t;
  t.kind = TaskKind::Disconnect;
  t.serial = serial;
  t.code = code;
  t.text = std::move(reason);
  post(std::move(t));
}
void Shard::post_close_all(std::uint16_t code, std::string reason) {
  Task t;
  t.kind = TaskKind::CloseAll;
  t.code = code;
  t.text = std::move(reason);
  post(std::move(t));
}

void Shard::run_tasks() {
  // Woken by a thread on this core (it may have been preempted for us in the
  // middle of a publish or send loop): let it queue the rest of its burst first.
  if (config_.coalesce_bursts && poster_cpu_.load(std::memory_order_relaxed) == sched_getcpu()) sched_yield();
  {
    std::lock_guard lock(mailbox_mu_);
    running_.swap(mailbox_);
    wake_posted_ = false;
  }
  turn_now_ns_ = now_ns();
  for (std::size_t i = 0; i < running_.size();) {
    // A run of publishes to the same topic with nothing in between (no
    // subscription change, no send) reaches the same subscribers in the same
    // order: deliver it as one buffer, as a raw writev loop would.
    // A buffer of several messages already (publish_many()) goes as it is.
    std::size_t j = i + 1;
    if (running_[i].kind == TaskKind::Publish && running_[i].frame->frames() == 1) {
      std::size_t bytes = running_[i].frame->size();
      while (j < running_.size() && j - i < kMaxPublishRun && running_[j].kind == TaskKind::Publish &&
             running_[j].frame->frames() == 1 && running_[j].text == running_[i].text &&
             bytes + running_[j].frame->size() <= kMaxPublishRunBytes) {
        bytes += running_[j].frame->size();
        ++j;
      }
    }
    if (j - i > 1) {
      publish_run(i, j);
    } else {
      run_task(running_[i]);
    }
    i = j;
  }
  running_.clear();
  flush_dirty();
  flush_events();
  collect_garbage();
}

Connection* Shard::find(std::uint64_t serial) {
  const auto slot = static_cast<std::uint32_t>(serial);
  if (slot >= slots_.size()) return nullptr;
  Connection* c = slots_[slot];
  return c != nullptr && c->serial == serial ? c : nullptr;
}

void Shard::run_task(Task& t) {
  switch (t.kind) {
    case TaskKind::Adopt:
      adopt(std::move(t.socket));
      break;
    case TaskKind::Send:
      if (Connection* c = find(t.serial)) enqueue(c, std::move(t.frame));
      break;
    case TaskKind::SendBatch:
      for (auto& [serial, frame] : t.sends)
        if (Connection* c = find(serial)) enqueue(c, std::move(frame));
      break;
    case TaskKind::Publish:
      deliver(t.text, t.frame);
      break;
    case TaskKind::Broadcast: {
      std::size_t n = 0;
      for (Connection* c : slots_) {
        if (c == nullptr) continue;
        enqueue(c, t.frame);
        ++n;
      }
      counters_.deliveries.fetch_add(n, std::memory_order_relaxed);
      break;
    }
    case TaskKind::Subscribe:
      if (Connection* c = find(t.serial))
        for (const auto& topic : t.topics) index_topics_.add(topic, c);
      break;
    case TaskKind::Unsubscribe:
      // The caller resolved "all topics" against the registry mirror already.
      if (Connection* c = find(t.serial))
        for (const auto& topic : t.topics) index_topics_.remove(topic, c);
      break;
    case TaskKind::Disconnect:
      if (Connection* c = find(t.serial)) start_close(c, t.code, t.text);
      break;
    case TaskKind::CloseAll: {
      closing_all_ = true;
      std::vector<Connection*> snapshot = all_;
      for (Connection* c : snapshot) {
        if (c->state == ConnState::Open) {
          start_close(c, t.code, t.text);
        } else if (c->state == ConnState::Http) {
          abort(c);
        }
      }
      break;
    }
  }
}

void Shard::deliver(std::string_view topic, const FrameRef& frame) {
  ++epoch_;
  const std::size_t n = index_topics_.for_each(
      topic, [&](Connection* c) { enqueue(c, frame); },
      [&](Connection* c) {
        if (c->epoch == epoch_) return true;
        c->epoch = epoch_;
        return false;
      });
  counters_.deliveries.fetch_add(n * frame->frames(), std::memory_order_relaxed);
}

void Shard::publish_run(std::size_t first, std::size_t last) {
  const FrameBuffer* parts[kMaxPublishRun];
  for (std::size_t i = first; i < last; ++i) parts[i - first] = running_[i].frame.get();
  deliver(running_[first].text, FrameRef(FrameBuffer::concat(parts, last - first)));
}

// ---- accept and read ------------------------------------------------------

void Shard::adopt(util::UniqueFd socket) {
  if (closing_all_) return;  // the descriptor closes with `socket`
  const int one = 1;
  ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  protocol::FrameLimits limits;
  limits.max_message_size = config_.max_message_size;
  auto* c = new Connection(std::move(socket), limits);
  // Registered once for both directions, edge-triggered: an event means "new
  // bytes" or "room again after a full buffer", so nothing is re-armed per read.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = c;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->sock.get(), &ev) != 0) {
    delete c;  // closes the socket; ENOMEM/ENOSPC (max_user_watches): refuse it
    return;
  }
  c->last_recv_ns = c->last_send_ns = now_ns();
  c->deadline_ns = c->last_recv_ns + config_.handshake_timeout_ms * 1'000'000;
  c->all_index = static_cast<std::uint32_t>(all_.size());
  all_.push_back(c);
  live_.fetch_add(1, std::memory_order_release);
  // No read now: EPOLL_CTL_ADD reports a socket that is already readable (the
  // request head often is by then) as an event of the next epoll_wait().
}

void Shard::arm_poller() {
  poller_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& ec) {
    if (ec) return;  // operation_aborted: the loop is stopping
    poll_connections();
    arm_poller();  // re-checks readiness: a full batch comes straight back
  });
}

void Shard::poll_connections() {
  epoll_event events[kPollBatch];
  const int n = ::epoll_wait(epoll_fd_, events, kPollBatch, 0);
  turn_now_ns_ = now_ns();
  for (int i = 0; i < n; ++i) {
    // Connections closed earlier in this batch are Dead but not yet deleted
    // (collect_garbage runs after the batch), and abort() removed them from the set.
    auto* c = static_cast<Connection*>(events[i].data.ptr);
    if (c->state == ConnState::Dead) continue;
    const std::uint32_t e = events[i].events;
    if (c->write_pending && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      c->write_pending = false;
      flush(c);  // a write error aborts the connection
    }
    // A connection that is only sending its HTTP answer reads nothing more.
    if (c->state != ConnState::Dead && c->state != ConnState::HttpClosing &&
        (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0)
      on_readable(c);
  }
  // Every readable connection is handled before Python is woken once for all of
  // their events (not once per socket: a context switch each on a shared core).
  flush_dirty();
  flush_events();
  collect_garbage();
}

void Shard::read_later(Connection* c) {
  if (c->read_later) return;
  c->read_later = true;
  ++c->pending_ops;
  read_later_.push_back(c);
  if (!read_later_posted_) {
    read_later_posted_ = true;
    asio::post(io_, [this] { run_read_later(); });
  }
}

void Shard::run_read_later() {
  read_later_posted_ = false;
  turn_now_ns_ = now_ns();
  std::vector<Connection*> batch;
  batch.swap(read_later_);
  for (Connection* c : batch) {
    c->read_later = false;
    --c->pending_ops;
    if (c->state != ConnState::Dead && c->state != ConnState::HttpClosing) on_readable(c);
  }
  flush_dirty();
  flush_events();
  collect_garbage();
}

void Shard::arm_write(Connection* c) {
  // The socket reported a full buffer, so the kernel will signal room again
  // (an EPOLLOUT edge) once the peer has read: poll_connections() flushes then.
  c->write_pending = true;
}

void Shard::on_readable(Connection* c) {
  const int fd = c->sock.get();
  char* buf = read_buf_.get();
  // Edge-triggered: read until the kernel has nothing more (a short read says
  // so: a later arrival raises a new edge), or until the budget is spent, in
  // which case the rest is read on the next turn (read_later) after the others.
  bool drained = false;
  for (int round = 0; round < kReadRounds && c->state != ConnState::Dead; ++round) {
    const ssize_t n = ::recv(fd, buf, kReadBufferSize, 0);
    if (n > 0) {
      c->last_recv_ns = turn_now_ns_;
      counters_.bytes_in.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      process_input(c, buf, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < kReadBufferSize) {
        drained = true;
        break;
      }
      continue;
    }
    if (n == 0) {  // peer closed its side
      abort(c);
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) abort(c);
    drained = true;
    break;
  }
  if (messages_in_ != 0) {
    counters_.messages_in.fetch_add(messages_in_, std::memory_order_relaxed);
    messages_in_ = 0;
  }
  if (!drained && c->state != ConnState::Dead && c->state != ConnState::HttpClosing) read_later(c);
}

void Shard::process_input(Connection* c, char* data, std::size_t size) {
  // Work on one contiguous buffer: the shard's read buffer when nothing is
  // pending (the common case, no copy), else the connection's own tail.
  char* buf = data;
  std::size_t len = size;
  const bool from_tail = !c->in.empty();
  if (from_tail) {
    c->in.append(data, size);
    buf = c->in.data();
    len = c->in.size();
  }
  std::size_t pos = 0;
  if (c->state == ConnState::Http) {
    const std::size_t end = protocol::find_head_end(std::string_view(buf, len));
    if (end == 0) {
      if (len > protocol::kMaxRequestHead) {
        c->in.clear();
        respond_http(c, 431, "text/plain", "request head too large\n");
        return;
      }
      if (!from_tail) c->in.assign(buf, len);
      return;
    }
    if (end > protocol::kMaxRequestHead) {
      c->in.clear();
      respond_http(c, 431, "text/plain", "request head too large\n");
      return;
    }
    std::string head(buf, end);
    pos = end;
    // Bytes after the head belong to the WebSocket; keep them while the head is handled.
    std::string rest(buf + pos, len - pos);
    c->in.clear();
    handle_head(c, head);
    if (c->state != ConnState::Open || rest.empty()) return;
    c->in = std::move(rest);
    buf = c->in.data();
    len = c->in.size();
    pos = 0;
    ParseHandler h{*this, c};
    const auto r = c->parser.feed(buf, len, h);
    if (c->state == ConnState::Dead) return;
    c->in.erase_front(r.consumed);
    if (r.stop) c->in.clear();
    return;
  }
  if (c->state != ConnState::Open && c->state != ConnState::Closing) return;
  ParseHandler h{*this, c};
  const auto r = c->parser.feed(buf, len, h);
  if (c->state == ConnState::Dead) return;
  if (r.stop) {
    c->in.clear();
    return;
  }
  const std::size_t left = len - r.consumed;
  if (from_tail) {
    c->in.erase_front(r.consumed);
  } else if (left != 0) {
    c->in.assign(buf + r.consumed, left);
  }
}

// ---- HTTP side --------------------------------------------------------------

void Shard::respond_http(Connection* c, int status, std::string_view content_type, std::string_view body,
                         std::string_view extra_headers) {
  if (status >= 400) counters_.handshakes_rejected.fetch_add(1, std::memory_order_relaxed);
  enqueue(c, make_raw(protocol::http_response(status, content_type, body, extra_headers)));
  c->state = ConnState::HttpClosing;
  c->close_after_flush = true;
  c->deadline_ns = now_ns() + kCloseGraceNs;
}

std::size_t Shard::handle_head(Connection* c, std::string_view head) {
  auto parsed = protocol::parse_request_head(head);
  if (!parsed.request) {
    respond_http(c, 400, "text/plain", "malformed HTTP request: " + parsed.error + "\n");
    return 0;
  }
  const protocol::HttpRequest& req = *parsed.request;
  if (!req.upgrade_requested) {
    if (req.method == "GET" && req.path == "/health") {
      respond_http(c, 200, "application/json", host_.health_json());
    } else if (req.method == "GET" && req.path == "/metrics") {
      respond_http(c, 200, "text/plain; version=0.0.4", host_.metrics_text());
    } else {
      respond_http(c, 404, "text/plain", "not found: WebSocket endpoint, /health and /metrics only\n");
    }
    return 0;
  }
  std::string why;
  if (const int status = protocol::check_upgrade(req, &why); status != 0) {
    respond_http(c, status, "text/plain", why + "\n", status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
    return 0;
  }
  if (!config_.allowed_origins.empty() && !req.origin.empty()) {
    bool ok = false;
    for (const auto& o : config_.allowed_origins) ok = ok || o == req.origin;
    if (!ok) {
      respond_http(c, 403, "application/json", R"({"code":"FORBIDDEN","message":"origin not allowed"})");
      return 0;
    }
  }
  if (closing_all_ || !host_.reserve_slot()) {
    respond_http(c, 503, "application/json",
                 R"({"code":"SERVER_ERROR","message":"server at max_connections"})", "Retry-After: 1\r\n");
    return 0;
  }
  c->slot_reserved = true;
  std::string user_id;
  if (host_.auth_enabled()) {
    std::optional<std::string> token = protocol::cookie_value(req.cookie, spec::kDefaultJwtCookieName);
    if (!token) token = protocol::bearer_token(req.authorization);
    if (!token) token = protocol::query_param(req.query, spec::kDefaultJwtQueryParam);
    std::string code, message;
    bool ok = false;
    if (!token || token->empty()) {
      code = std::string(spec::kErrorAuthRequired);
      message = "No token in the access_token cookie, Authorization header or ?token=";
    } else {
      ok = host_.authenticate(*token, user_id, code, message);
    }
    if (!ok) {
      counters_.auth_failures.fetch_add(1, std::memory_order_relaxed);
      host_.release_slot();
      c->slot_reserved = false;
      if (config_.auth_reject_http) {
        std::string body;
        body.append(R"({"code":")").append(code).append(R"(","message":)");
        util::append_json_string(body, message);
        body.append("}");
        respond_http(c, 401, "application/json", body);
        return 0;
      }
      // Upgrade, explain, close with 4401: clients tell auth failures from network ones.
      enqueue(c, make_raw(protocol::switching_protocols_response(req.ws_key)));
      c->state = ConnState::Open;  // transiently, for start_close
      enqueue(c, make_frame(protocol::Opcode::Text, protocol::error_message(code, message, false)));
      start_close(c, static_cast<std::uint16_t>(spec::CloseCode::AUTH_FAILED), "Authentication failed");
      return 0;
    }
  }
  open_websocket(c, req.ws_key, req.query, std::move(user_id),
                 host_.auth_enabled() ? std::string() : req.cookie);
  return 0;
}

void Shard::open_websocket(Connection* c, const std::string& ws_key, const std::string& query,
                           std::string user_id, std::string cookie) {
  auto info = std::make_shared<ConnInfo>();
  info->uuid = util::uuid7();
  info->user_id = std::move(user_id);
  info->shard = index_;
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(nullptr);
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  info->serial = c->serial = (static_cast<std::uint64_t>(++generation_) << 32) | slot;
  info->msgpack = protocol::query_flag(query, "format", "msgpack");
  info->compression = !protocol::query_flag(query, "compression", "false");
  c->info = info;
  c->state = ConnState::Open;
  c->tokens = config_.rate_limit_capacity;
  c->tokens_ns = turn_now_ns_;
  slots_[slot] = c;
  counters_.connections_opened.fetch_add(1, std::memory_order_relaxed);
  counters_.open_now.fetch_add(1, std::memory_order_relaxed);

  // 101 and server_ready leave in one write.
  protocol::ServerReadyInfo ready;
  ready.connection_id = info->id();
  ready.user_id = info->user_id;
  ready.now_ms = util::unix_ms();
  ready.heartbeat_interval_ms = config_.heartbeat_interval_ms;
  ready.idle_timeout_ms = config_.idle_timeout_ms;
  ready.max_message_size = config_.max_message_size;
  ready.msgpack = info->msgpack;
  ready.compression = info->compression;
  if (config_.encryption && protocol::query_flag(query, "encryption", "true")) {
    c->crypto = CryptoSession::offer();
    ready.encryption_public_key = c->crypto->public_key_base64();
  }
  std::string bytes = protocol::switching_protocols_response(ws_key);
  protocol::append_frame(bytes, protocol::Opcode::Text, protocol::server_ready_message(ready));
  // Written directly when the socket takes it all (it nearly always does), so an
  // idle connection never allocates an outbound queue.
  const ssize_t n = ::send(c->sock.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
  const std::size_t written = n > 0 ? static_cast<std::size_t>(n) : 0;
  if (written > 0) {
    counters_.bytes_out.fetch_add(written, std::memory_order_relaxed);
    counters_.frames_out.fetch_add(1, std::memory_order_relaxed);
  }
  if (written < bytes.size()) enqueue(c, make_raw(std::string_view(bytes).substr(written)));
  host_.connection_opened(info);
  if (host_.auth_enabled()) {
    push_event(InboundKind::AuthConnect, c, info->user_id);
  } else {
    push_event(InboundKind::Connect, c, cookie);
  }
}

// ---- messages -------------------------------------------------------------

void Shard::push_event(InboundKind kind, Connection* c, std::string_view data) {
  // Batched until the end of the loop turn: every handler of the loop
  // (poll_connections, run_tasks, run_read_later, tick) ends with flush_events().
  if (!events_)
    events_ = std::make_unique<InboundBatch>(batch_bytes_hint_ + batch_bytes_hint_ / 8,
                                             batch_events_hint_ + batch_events_hint_ / 8);
  events_->add(kind, c->info, data);  // the payload is copied once, into the batch's block
}

void Shard::flush_events() {
  if (!events_) return;
  // A small batch (a tick's, a task's) lowers the hint by a quarter only: the
  // next busy turn still finds most of its room reserved.
  batch_bytes_hint_ = std::max(events_->payload_bytes(), batch_bytes_hint_ - batch_bytes_hint_ / 4);
  batch_events_hint_ = std::max(events_->size(), batch_events_hint_ - batch_events_hint_ / 4);
  host_.inbound().push(std::move(events_));
}

bool Shard::rate_allows(Connection* c) {
  if (config_.rate_limit_refill <= 0) return true;
  const std::int64_t now = turn_now_ns_;
  if (now > c->tokens_ns) {  // messages of one loop turn share its clock: refill once
    const double elapsed = static_cast<double>(now - c->tokens_ns) / 1e9;
    c->tokens_ns = now;
    c->tokens = std::min(config_.rate_limit_capacity, c->tokens + elapsed * config_.rate_limit_refill);
  }
  if (c->tokens >= 1.0) {
    c->tokens -= 1.0;
    return true;
  }
  ++c->rate_dropped;
  counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
  if (now - c->last_warning_ns >= 1'000'000'000) {  // at most one warning per second
    c->last_warning_ns = now;
    const double retry_after = (1.0 - c->tokens) / config_.rate_limit_refill;
    send_text_now(c, protocol::rate_limit_warning_message(
                         c->info->next_seq.fetch_add(1), util::unix_ms(), config_.rate_limit_capacity,
                         config_.rate_limit_refill, retry_after, c->rate_dropped));
    c->rate_dropped = 0;
  }
  return false;
}

void Shard::send_text_now(Connection* c, std::string_view text) {
  enqueue(c, make_frame(protocol::Opcode::Text, text));
}

void Shard::on_message(Connection* c, protocol::Opcode op, std::string_view payload) {
  if (c->state != ConnState::Open) return;
  ++messages_in_;  // added to the shared counter once per readable socket (on_readable)
  if (op == protocol::Opcode::Text) {
    on_text(c, payload);
    return;
  }
  if (payload.starts_with(spec::kMarkerEncrypted)) {
    on_encrypted(c, payload.substr(spec::kMarkerEncrypted.size()));
    return;
  }
  // Binary: C: (zlib), bare zlib, M: (msgpack), msgpack connections, raw bytes.
  const bool c_marker = payload.starts_with(spec::kMarkerCompressed);
  const bool bare_zlib =
      payload.size() >= 2 && static_cast<unsigned char>(payload[0]) == 0x78 &&
      ((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1])) % 31 == 0;
  if (c_marker || bare_zlib) {
    std::string text;
    try {
      text = compression::zlib_decompress(c_marker ? payload.substr(2) : payload, config_.max_message_size);
    } catch (const LimitExceeded&) {
      start_close(c, static_cast<std::uint16_t>(spec::CloseCode::MESSAGE_TOO_BIG),
                  "inflated message too big");
      return;
    } catch (const std::exception& e) {
      send_text_now(c, protocol::error_message(spec::kErrorInvalidMessage,
                                               std::string("cannot inflate C: frame: ") + e.what(), true));
      return;
    }
    if (!protocol::is_valid_utf8(text)) {
      send_text_now(
          c, protocol::error_message(spec::kErrorInvalidMessage, "inflated C: frame is not UTF-8", true));
      return;
    }
    on_text(c, text);
    return;
  }
  if (!rate_allows(c)) return;
  if (payload.starts_with(spec::kMarkerMsgpack)) {
    push_event(InboundKind::MsgPack, c, payload.substr(2));
  } else if (c->info->msgpack && !payload.empty() &&
             (static_cast<unsigned char>(payload[0]) & 0xF0) == 0x80) {
    push_event(InboundKind::MsgPack, c, payload);
  } else {
    push_event(InboundKind::Bin, c, payload);
  }
}

void Shard::on_text(Connection* c, std::string_view text) {
  if (auto ms = protocol::legacy_ping(text)) {
    counters_.pings_answered.fetch_add(1, std::memory_order_relaxed);
    std::string reply = "PONG:";
    reply.append(*ms);
    send_text_now(c, reply);
    return;
  }
  const auto json = protocol::strip_category(text);
  if (!json) {
    if (rate_allows(c)) push_event(InboundKind::Raw, c, text);
    return;
  }
  on_json(c, *json);
}

void Shard::on_json(Connection* c, std::string_view json) {
  // Fast path for application messages: no parse on the I/O thread (the binding
  // parses once into a dict, and hands over as raw text what is not an object).
  if (!protocol::may_be_server_handled(json)) {
    if (rate_allows(c))
      push_event(protocol::looks_like_object(json) ? InboundKind::Msg : InboundKind::Raw, c, json);
    return;
  }
  protocol::InboundInfo info = protocol::inspect_inbound(json);
  if (!info.is_object) {
    if (rate_allows(c)) push_event(InboundKind::Raw, c, json);
    return;
  }
  if (info.type == spec::kType_ping || info.type == spec::kType_PING) {
    counters_.pings_answered.fetch_add(1, std::memory_order_relaxed);
    send_text_now(c, protocol::pong_message(info.ping_timestamp.value_or(0), util::unix_ms()));
    return;
  }
  if (info.type == spec::kType_pong || info.type == spec::kType_PONG) return;
  if (!rate_allows(c)) return;
  if (info.type == spec::kType_client_hello) {
    answer_hello(c, info.encryption_public_key);
  } else if ((info.type == spec::kType_subscription_update || info.type == spec::kType_subscription) &&
             config_.subscription_policy) {
    handle_subscription(c, info.action, info.topics, info.topics_valid);
    return;
  }
  push_event(InboundKind::Msg, c, json);
}

void Shard::answer_hello(Connection* c, const std::string& client_key) {
  // server_hello leaves in plaintext (it says whether encryption is on); every
  // data frame queued after it is sealed.
  if (c->crypto && !c->crypto->keyed()) {
    std::string why = "client_hello has no encryption_public_key";
    if (client_key.empty() || !c->crypto->accept(client_key, &why)) {
      c->crypto.reset();
      send_text_now(c, protocol::error_message(spec::kErrorEncryptionFailed, why, false));
    }
  }
  send_text_now(c,
                protocol::server_hello_message(c->info->id(), c->info->next_seq.fetch_add(1), util::unix_ms(),
                                               config_.max_message_size, config_.rate_limit_capacity,
                                               config_.rate_limit_refill, config_.heartbeat_interval_ms,
                                               c->info->msgpack, c->info->compression, c->crypto != nullptr));
  if (c->crypto) c->crypto->activate();
}

void Shard::on_encrypted(Connection* c, std::string_view blob) {
  std::string why = "E: frame on a connection without encryption";
  std::optional<std::string> plain;
  if (c->crypto) plain = c->crypto->open(blob, &why);
  if (!plain) {
    counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    send_text_now(
        c, protocol::error_message(spec::kErrorEncryptionFailed, "cannot decrypt E: frame: " + why, false));
    return;
  }
  // Inbound plaintext is the prefixed JSON text (PROTOCOL.md 6.3), never another frame.
  if (!protocol::is_valid_utf8(*plain)) {
    send_text_now(
        c, protocol::error_message(spec::kErrorInvalidMessage, "decrypted E: frame is not UTF-8 text", true));
    return;
  }
  on_text(c, *plain);
}

namespace {

// True if every topic matched by `requested` is matched by `policy`.
bool policy_covers(std::string_view policy, std::string_view requested) {
  if (!util::is_glob(requested)) return util::glob_match(policy, requested);
  if (policy == requested) return true;
  // policy = literal prefix + a single trailing '*': covers any glob whose own
  // literal prefix starts with that prefix.
  const std::size_t star = policy.find_first_of("*?");
  if (star != policy.size() - 1 || policy.back() != '*') return false;
  const std::string_view prefix = policy.substr(0, star);
  const std::string_view req_prefix = requested.substr(0, requested.find_first_of("*?"));
  return req_prefix.starts_with(prefix);
}

std::string substitute_user(std::string_view pattern, std::string_view user_id) {
  std::string out(pattern);
  const std::string_view key = "{user_id}";
  for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + user_id.size()))
    out.replace(at, key.size(), user_id);
  return out;
}

}  // namespace

void Shard::handle_subscription(Connection* c, std::string_view action,
                                const std::vector<std::string>& topics, bool topics_valid) {
  if (!topics_valid || topics.empty()) {
    send_text_now(
        c, protocol::error_message(spec::kErrorInvalidSubscription,
                                   "subscription_update needs p.topics: a non-empty list of strings", true));
    return;
  }
  if (action != "subscribe" && action != "unsubscribe") {
    send_text_now(c, protocol::error_message(spec::kErrorInvalidAction,
                                             "p.action must be \"subscribe\" or \"unsubscribe\"", true));
    return;
  }
  protocol::SubscriptionAck ack;
  ack.action = action;
  std::vector<std::string> added, removed;
  if (action == "subscribe") {
    for (const auto& topic : topics) {
      bool allowed = false;
      for (const auto& pattern : *config_.subscription_policy) {
        // A user without an id cannot use {user_id} patterns.
        if (pattern.find("{user_id}") != std::string::npos && c->info->user_id.empty()) continue;
        if (policy_covers(substitute_user(pattern, c->info->user_id), topic)) {
          allowed = true;
          break;
        }
      }
      if (allowed) {
        ack.success_topics.push_back(topic);
        if (index_topics_.add(topic, c)) added.push_back(topic);
      } else {
        ack.failed_topics.push_back(topic);
      }
    }
  } else {
    for (const auto& topic : topics) {
      ack.success_topics.push_back(topic);
      if (index_topics_.remove(topic, c)) removed.push_back(topic);
    }
  }
  host_.topics_changed(c->info, added, removed);
  {
    std::lock_guard lock(c->info->mu);
    ack.active = c->info->topics.list();
  }
  std::sort(ack.active.begin(), ack.active.end());
  send_text_now(c, protocol::subscription_ack_message(ack, c->info->next_seq.fetch_add(1), util::unix_ms()));
}

// ---- output ----------------------------------------------------------------

void Shard::enqueue(Connection* c, FrameRef frame) {
  if (c->state == ConnState::Dead) return;
  if (c->crypto != nullptr && c->crypto->active()) [[unlikely]] {
    frame = c->crypto->seal(frame);  // per connection, also for shared fan-out frames
    if (!frame) return;              // never fall back to plaintext
  }
  const std::size_t size = frame->size();
  if (c->state == ConnState::Open && c->out_bytes + size > config_.max_outbound_bytes && c->out_bytes != 0) {
    if (config_.slow_consumer == SlowConsumerPolicy::Drop) {
      counters_.slow_consumer_dropped.fetch_add(frame->frames(), std::memory_order_relaxed);
      return;
    }
    counters_.slow_consumer_closed.fetch_add(1, std::memory_order_relaxed);
    // The queue is full, so a close frame would wait behind it: drop the queue
    // first, then close (the peer sees 1013 and reconnects later).
    c->out.erase(c->out.begin() + static_cast<std::ptrdiff_t>(c->out_head) + (c->out_offset != 0 ? 1 : 0),
                 c->out.end());
    c->out_bytes = 0;
    for (std::size_t i = c->out_head; i < c->out.size(); ++i) c->out_bytes += c->out[i]->size();
    c->out_bytes -= c->out_offset;
    start_close(c, static_cast<std::uint16_t>(spec::CloseCode::TRY_AGAIN_LATER), "slow consumer");
    return;
  }
  c->out_bytes += size;
  c->out.push_back(std::move(frame));
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void Shard::flush_dirty() {
  // flush() may append to dirty_ (never for the connection being flushed), so index.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Connection* c = dirty_[i];
    c->dirty = false;
    if (c->state != ConnState::Dead && !c->write_pending) flush(c);
  }
  dirty_.clear();
}

void Shard::flush(Connection* c) {
  const int fd = c->sock.get();
  std::uint64_t frames_done = 0, calls = 0, bytes_done = 0;
  // One relaxed add per counter per flush instead of per frame.
  struct Publish {
    ShardCounters& k;
    std::uint64_t &frames, &calls, &bytes;
    ~Publish() {
      if (calls != 0) k.write_calls.fetch_add(calls, std::memory_order_relaxed);
      if (frames != 0) k.frames_out.fetch_add(frames, std::memory_order_relaxed);
      if (bytes != 0) k.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    }
  } publish{counters_, frames_done, calls, bytes_done};
  while (c->out_head < c->out.size()) {
    iovec iov[kMaxIov];
    int count = 0;
    std::size_t total = 0;
    std::size_t offset = c->out_offset;
    for (std::size_t i = c->out_head; i < c->out.size() && count < kMaxIov; ++i) {
      FrameBuffer* f = c->out[i].get();
      iov[count].iov_base = const_cast<char*>(f->bytes()) + offset;
      iov[count].iov_len = f->size() - offset;
      total += iov[count].iov_len;
      offset = 0;
      ++count;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(count);
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    ++calls;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        arm_write(c);
        return;
      }
      abort(c);
      return;
    }
    c->last_send_ns = turn_now_ns_;
    bytes_done += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    c->out_bytes -= left;
    while (left > 0) {
      const std::size_t rest = c->out[c->out_head]->size() - c->out_offset;
      if (left >= rest) {
        left -= rest;
        frames_done += c->out[c->out_head]->frames();
        c->out[c->out_head] = FrameRef();
        ++c->out_head;
        c->out_offset = 0;
      } else {
        c->out_offset += left;
        left = 0;
      }
    }
    if (static_cast<std::size_t>(n) < total) {  // the socket buffer is full
      arm_write(c);
      return;
    }
  }
  c->out.clear();
  c->out_head = 0;
  if (c->out.capacity() > kKeepOutCapacity) std::vector<FrameRef>().swap(c->out);
  if (c->close_after_flush) abort(c);
}

// ---- closing ----------------------------------------------------------------

void Shard::unregister(Connection* c) {
  if (!c->info) return;
  const auto slot = static_cast<std::uint32_t>(c->serial);
  if (c->serial != 0 && slot < slots_.size() && slots_[slot] == c) {
    slots_[slot] = nullptr;
    free_slots_.push_back(slot);
    std::vector<std::string> topics;
    {
      std::lock_guard lock(c->info->mu);
      topics = c->info->topics.list();
    }
    for (const auto& t : topics) index_topics_.remove(t, c);
    c->info->open.store(false, std::memory_order_release);
    counters_.open_now.fetch_sub(1, std::memory_order_relaxed);
    counters_.connections_closed.fetch_add(1, std::memory_order_relaxed);
    host_.connection_closed(c->info);
    push_event(InboundKind::Disconnect, c, {});
  }
  if (c->slot_reserved) {
    c->slot_reserved = false;
    host_.release_slot();
  }
}

void Shard::start_close(Connection* c, std::uint16_t code, std::string_view reason) {
  if (c->state != ConnState::Open) {
    if (c->state == ConnState::Http) abort(c);
    return;
  }
  c->state = ConnState::Closing;
  c->deadline_ns = now_ns() + kCloseGraceNs;
  unregister(c);
  // Past this point the only output is the close frame.
  FrameRef frame = make_raw(protocol::encode_close_frame(code, reason));
  c->out_bytes += frame->size();
  c->out.push_back(std::move(frame));
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void Shard::on_peer_close(Connection* c, std::uint16_t code) {
  if (c->state == ConnState::Closing) {  // the answer to our close: done
    c->close_after_flush = true;
    if (c->out_head >= c->out.size()) abort(c);
    return;
  }
  if (c->state != ConnState::Open) return;
  // Echo the peer's code (1000 when it sent none) and close once it is written.
  start_close(c, code == 1005 ? 1000 : code, "");
  c->close_after_flush = true;
}

void Shard::abort(Connection* c) {
  if (c->state == ConnState::Dead) return;
  if (c->state == ConnState::Open) unregister(c);
  if (c->slot_reserved) {
    c->slot_reserved = false;
    host_.release_slot();
  }
  c->state = ConnState::Dead;
  // Removed from the set before closing: a copy of the descriptor in a forked
  // child would otherwise keep the registration (and this pointer) alive.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->sock.get(), nullptr);
  c->sock.reset();
  c->out.clear();
  c->out_head = c->out_offset = c->out_bytes = 0;
  c->in.clear();
  // Swap-remove from all_.
  Connection* last = all_.back();
  all_[c->all_index] = last;
  last->all_index = c->all_index;
  all_.pop_back();
  dead_.push_back(c);
  live_.fetch_sub(1, std::memory_order_release);
}

void Shard::collect_garbage() {
  std::size_t keep = 0;
  for (Connection* c : dead_) {
    if (c->pending_ops == 0 && !c->dirty) {
      delete c;
    } else {
      dead_[keep++] = c;
    }
  }
  dead_.resize(keep);
}

// ---- timers -----------------------------------------------------------------

void Shard::arm_tick() {
  std::int64_t period_ms = 1000;
  if (config_.heartbeat_interval_ms > 0) period_ms = std::min(period_ms, config_.heartbeat_interval_ms / 4);
  if (config_.idle_timeout_ms > 0) period_ms = std::min(period_ms, config_.idle_timeout_ms / 4);
  period_ms = std::max<std::int64_t>(period_ms, 20);
  timer_.expires_after(std::chrono::milliseconds(period_ms));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    tick();
    arm_tick();
  });
}

void Shard::tick() {
  const std::int64_t now = turn_now_ns_ = now_ns();
  const std::int64_t idle_ns = config_.idle_timeout_ms * 1'000'000;
  const std::int64_t heartbeat_ns = config_.heartbeat_interval_ms * 1'000'000;
  std::vector<Connection*> snapshot = all_;
  for (Connection* c : snapshot) {
    switch (c->state) {
      case ConnState::Http:
        if (now > c->deadline_ns) abort(c);
        break;
      case ConnState::Open:
        // An idle connection gives its outbound slots back (hot ones keep them).
        if (c->out.empty() && c->out.capacity() != 0 && now - c->last_send_ns > 1'000'000'000)
          std::vector<FrameRef>().swap(c->out);
        if (idle_ns > 0 && now - c->last_recv_ns > idle_ns) {
          counters_.idle_closed.fetch_add(1, std::memory_order_relaxed);
          start_close(c, static_cast<std::uint16_t>(spec::CloseCode::GOING_AWAY), "idle timeout");
        } else if (heartbeat_ns > 0 && now - c->last_send_ns >= heartbeat_ns &&
                   c->out_head >= c->out.size()) {
          const std::string stamp = std::to_string(util::unix_ms());
          enqueue(c, make_frame(protocol::Opcode::Ping, stamp));
          c->last_send_ns = now;
        }
        break;
      case ConnState::Closing:
      case ConnState::HttpClosing:
        if (now > c->deadline_ns) abort(c);
        break;
      case ConnState::Dead:
        break;
    }
  }
  flush_dirty();
  flush_events();
  collect_garbage();
}

}  // namespace wse::transport
