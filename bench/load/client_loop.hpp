#pragma once
// One-thread epoll loop of WebSocket client connections. It connects (with a
// bounded number of handshakes in flight), upgrades, parses server frames out
// of one shared read buffer and reports them to a Workload. Output goes out
// with send(); what the socket does not take waits in the connection's own
// buffer and EPOLLOUT is armed only then.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "meters.hpp"
#include "ws_codec.hpp"

namespace wse::bench {

enum class ConnState : std::uint8_t { Idle, Connecting, Upgrading, Open, Closed };

struct Conn {
  int fd = -1;
  std::uint32_t index = 0;
  ConnState state = ConnState::Idle;
  bool want_out = false;  // EPOLLOUT armed
  std::string key;        // Sec-WebSocket-Key while upgrading
  std::string in;         // incomplete head or frame
  std::string out;        // bytes the socket did not take yet
  std::size_t out_at = 0;
  std::uint64_t started_ns = 0;  // connect() time
  // Workload state.
  std::uint64_t next_seq = 0;
  bool seen_first = false;
  bool got_frame = false;
  std::uint64_t a = 0, b = 0;
  std::string batch;  // queued by queue(), sent once at the end of the epoll round
  bool queued = false;
  std::string frag;  // fragments of a message being reassembled
  Op frag_op = Op::Text;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual void on_open(Conn&) {}
  // A text or binary message (fragmented messages are reassembled).
  virtual void on_message(Conn&, Op, std::string_view) {}
  virtual void on_pong(Conn&, std::string_view) {}
  virtual void on_closed(Conn&, const char* /*why*/) {}
  // The socket can take more bytes and the connection's buffer is empty.
  virtual void on_writable(Conn&) {}
};

struct LoopOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
  std::string token;
  int read_delay_us = 0;
  std::size_t max_connecting = 256;
};

class ClientLoop {
 public:
  explicit ClientLoop(LoopOptions o) : opt_(std::move(o)), buf_(kBufSize) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw std::runtime_error("epoll_create1 failed");
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<std::uint16_t>(opt_.port));
    if (inet_pton(AF_INET, opt_.host.c_str(), &addr_.sin_addr) != 1)
      throw std::runtime_error("host must be an IPv4 address: " + opt_.host);
  }
  ~ClientLoop() {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
    ::close(ep_);
  }

  void set_workload(Workload* w) { w_ = w; }
  std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }
  std::size_t open_count() const { return open_; }
  std::uint64_t failures() const { return failures_; }
  std::string last_failure() const { return last_failure_; }
  std::uint64_t protocol_errors() const { return protocol_errors_; }
  // Clock read right after the last recv(): the arrival time of every message it
  // returned (one clock read per read instead of one per message).
  std::uint64_t recv_ns() const { return recv_ns_; }

  // Creates `n` connection slots and queues them for connecting.
  void add(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto c = std::make_unique<Conn>();
      c->index = static_cast<std::uint32_t>(conns_.size());
      pending_.push_back(c.get());
      conns_.push_back(std::move(c));
    }
    pump_connects();
  }
  // Re-queues a closed slot (accept-rate workload).
  void reconnect(Conn& c) {
    c.state = ConnState::Idle;
    pending_.push_back(&c);
  }
  void pump_connects() {
    while (connecting_ < opt_.max_connecting && !pending_.empty()) {
      Conn* c = pending_.front();
      pending_.pop_front();
      start_connect(*c);
    }
  }

  // Queues bytes; sends at once if nothing is waiting.
  void send(Conn& c, std::string_view bytes) {
    if (c.state != ConnState::Open && c.state != ConnState::Upgrading) return;
    if (c.out_at < c.out.size()) {
      c.out.append(bytes);
      return;
    }
    c.out.clear();
    c.out_at = 0;
    const ssize_t n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail(c, "send failed");
      return;
    }
    const std::size_t done = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (done < bytes.size()) {
      c.out.assign(bytes.substr(done));
      arm_out(c, true);
    }
  }
  // Appends bytes to send once at the end of this epoll round: many replies to
  // one connection then cost one send() (the client's CPU is part of the run).
  void queue(Conn& c, std::string_view bytes) { batch_of(c).append(bytes); }
  // The bytes queue() would append to, for writing a frame in place.
  std::string& batch_of(Conn& c) {
    if (!c.queued) {
      c.queued = true;
      queued_.push_back(&c);
    }
    return c.batch;
  }
  void flush_queued() {
    for (Conn* c : queued_) {
      c->queued = false;
      if (c->fd >= 0 && !c->batch.empty()) send(*c, c->batch);
      c->batch.clear();
    }
    queued_.clear();
  }
  bool has_backlog(const Conn& c) const { return c.out_at < c.out.size(); }
  void want_writable(Conn& c) { arm_out(c, true); }

  // Closes abruptly (RST, so the client keeps no TIME_WAIT state).
  void close_reset(Conn& c) {
    if (c.fd < 0) return;
    linger l{1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    drop(c);
  }

  // Runs one epoll round (waits at most timeout_ms).
  void run_once(int timeout_ms) {
    epoll_event events[512];
    const int n = epoll_wait(ep_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(events[i].data.ptr);
      if (c.fd < 0) continue;
      const std::uint32_t ev = events[i].events;
      if (c.state == ConnState::Connecting) {
        if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) finish_connect(c);
        continue;
      }
      if ((ev & EPOLLIN) != 0 || (ev & (EPOLLERR | EPOLLHUP)) != 0) on_readable(c);
      if (c.fd >= 0 && (ev & EPOLLOUT) != 0) on_writable(c);
    }
    flush_queued();
    if (n > 0 && opt_.read_delay_us > 0) usleep(static_cast<useconds_t>(opt_.read_delay_us));
    pump_connects();
  }

 private:
  static constexpr std::size_t kBufSize = 256 * 1024;

  void start_connect(Conn& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      ++failures_;
      last_failure_ = "socket() failed (ulimit -n?)";
      c.state = ConnState::Closed;
      if (w_ != nullptr) w_->on_closed(c, "socket() failed");
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.in.clear();
    c.out.clear();
    c.out_at = 0;
    c.got_frame = false;
    c.started_ns = mono_ns();
    c.state = ConnState::Connecting;
    ++connecting_;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    c.want_out = true;
    const int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
    if (r == 0)
      finish_connect(c);
    else if (errno != EINPROGRESS)
      fail(c, "connect failed");
  }

  void finish_connect(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c, "connect refused");
      return;
    }
    c.state = ConnState::Upgrading;
    arm_out(c, false);
    std::string req;
    append_upgrade_request(req, opt_.host, opt_.path, opt_.token, rng_, c.key);
    send(c, req);
  }

  void arm_out(Conn& c, bool on) {
    if (c.want_out == on || c.fd < 0) return;
    c.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void on_writable(Conn& c) {
    while (c.out_at < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        fail(c, "send failed");
        return;
      }
      c.out_at += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_at = 0;
    arm_out(c, false);
    if (c.state == ConnState::Open && w_ != nullptr) w_->on_writable(c);
  }

  void on_readable(Conn& c) {
    for (int round = 0; round < 4 && c.fd >= 0; ++round) {
      const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
      recv_ns_ = mono_ns();
      if (n == 0) {
        fail(c, "server closed the socket");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        fail(c, "recv failed");
        return;
      }
      consume(c, buf_.data(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < buf_.size()) return;
    }
  }

  void consume(Conn& c, const char* data, std::size_t n) {
    const char* p = data;
    std::size_t len = n;
    const bool tail = !c.in.empty();
    if (tail) {
      c.in.append(data, n);
      p = c.in.data();
      len = c.in.size();
    }
    std::size_t pos = 0;
    if (c.state == ConnState::Upgrading) {
      const std::string_view all(p, len);
      const std::size_t end = all.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (!tail) c.in.assign(p, len);
        if (c.in.size() > 16384) fail(c, "response head too large");
        return;
      }
      const std::string_view head = all.substr(0, end);
      if (!head.starts_with("HTTP/1.1 101")) {
        fail(c, "upgrade refused");
        return;
      }
      const std::string expect = "Sec-WebSocket-Accept: " + accept_key(c.key);
      if (!contains_ci(head, expect)) {
        fail(c, "bad Sec-WebSocket-Accept");
        return;
      }
      pos = end + 4;
      c.state = ConnState::Open;
      --connecting_;
      ++open_;
      if (w_ != nullptr) w_->on_open(c);
      if (c.fd < 0) return;
    }
    while (c.fd >= 0) {
      ServerFrame f;
      const ParseResult r = parse_server_frame(p + pos, len - pos, f);
      if (r == ParseResult::NeedMore) break;
      if (r == ParseResult::Error) {
        ++protocol_errors_;
        fail(c, "bad frame from server");
        return;
      }
      pos += f.size;
      c.got_frame = true;
      dispatch(c, f);
    }
    if (c.fd < 0) return;
    if (tail) {
      c.in.erase(0, pos);
    } else if (pos < len) {
      c.in.assign(p + pos, len - pos);
    }
  }

  void dispatch(Conn& c, const ServerFrame& f) {
    switch (f.op) {
      case Op::Text:
      case Op::Binary:
        if (f.fin) {
          if (w_ != nullptr) w_->on_message(c, f.op, f.payload);
        } else {
          c.frag_op = f.op;
          c.frag.assign(f.payload);
        }
        break;
      case Op::Cont:
        c.frag.append(f.payload);
        if (f.fin && w_ != nullptr) w_->on_message(c, c.frag_op, c.frag);
        break;
      case Op::Ping: {
        std::string pong;
        append_masked_frame(pong, Op::Pong, f.payload, static_cast<std::uint32_t>(rng_.next()));
        send(c, pong);
        break;
      }
      case Op::Pong:
        if (w_ != nullptr) w_->on_pong(c, f.payload);
        break;
      case Op::Close:
        fail(c, "server sent close");
        break;
    }
  }

  static bool contains_ci(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
      std::size_t j = 0;
      while (j < needle.size() && lower(hay[i + j]) == lower(needle[j])) ++j;
      if (j == needle.size()) return true;
    }
    return false;
  }
  static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch; }

  void fail(Conn& c, const char* why) {
    if (c.state != ConnState::Open) {
      ++failures_;
      last_failure_ = why;
    }
    drop(c);
    if (w_ != nullptr) w_->on_closed(c, why);
  }

  void drop(Conn& c) {
    if (c.fd < 0) return;
    if (c.state == ConnState::Connecting || c.state == ConnState::Upgrading) --connecting_;
    if (c.state == ConnState::Open) --open_;
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.want_out = false;
    c.state = ConnState::Closed;
    c.in.clear();
    c.out.clear();
    c.out_at = 0;
    c.batch.clear();
  }

  LoopOptions opt_;
  int ep_ = -1;
  sockaddr_in addr_{};
  std::vector<char> buf_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::deque<Conn*> pending_;
  std::vector<Conn*> queued_;
  std::size_t connecting_ = 0;
  std::size_t open_ = 0;
  std::uint64_t failures_ = 0;
  std::string last_failure_;
  std::uint64_t protocol_errors_ = 0;
  std::uint64_t recv_ns_ = 0;
  Workload* w_ = nullptr;
  XorShift rng_;
};

}  // namespace wse::bench
