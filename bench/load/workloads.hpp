#pragma once
// The workloads of the side-by-side benchmarks. Each is driven by the same
// ClientLoop; they differ only in what they send and what they check. The
// conventions every peer under test follows are in bench/README.md.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "client_loop.hpp"
#include "meters.hpp"

namespace wse::bench {

// Counters of the measured window, shared by the workloads.
struct Window {
  bool measuring = false;
  std::uint64_t count = 0;     // deliveries / round trips / handshakes / pongs in the window
  std::uint64_t total = 0;     // the same over the whole run
  std::uint64_t gaps = 0;      // missing sequence numbers (whole run)
  std::uint64_t disorder = 0;  // repeated or backwards sequence numbers (whole run)
  std::uint64_t closed = 0;    // open connections lost during the run
  std::uint64_t other = 0;     // messages without the bench fields (server_ready, ...)
  std::uint64_t rejected = 0;  // error frames (e.g. a refused JWT)
  Histogram latency;
};

// Reads seq and ts of a fan-out message: at fixed offsets for the exact layout
// every peer writes ({"t":"bench","seq":N,"ts":N,...}), by search otherwise.
inline bool bench_fields(std::string_view m, std::uint64_t& seq, std::uint64_t& ts) noexcept {
  constexpr std::string_view kHead = "{\"t\":\"bench\",\"seq\":";
  constexpr std::string_view kTs = ",\"ts\":";
  if (m.starts_with(kHead)) {
    std::size_t i = kHead.size();
    if (i >= m.size() || m[i] < '0' || m[i] > '9') return false;
    seq = parse_digits(m, i);
    if (m.substr(i, kTs.size()) == kTs) {
      i += kTs.size();
      if (i >= m.size() || m[i] < '0' || m[i] > '9') return false;
      ts = parse_digits(m, i);
      return true;
    }
  }
  return json_u64(m, "\"seq\"", seq) && json_u64(m, "\"ts\"", ts);
}

// Fan-out receive: every message carries "seq" (per topic, from 0) and "ts"
// (CLOCK_MONOTONIC ns at publish). Each connection checks its sequence.
//
// Credit: the publisher keeps a bounded number of messages in flight beyond the
// last "A<seq>" it got back (every `ack_every`-th seq). By default (AckWhen::All)
// "A<seq>" is sent, at once, when *every* open connection has received that seq,
// so the window bounds what is undelivered to any subscriber and the ack does not
// depend on the order in which a server writes its sockets. AckWhen::One is the
// earlier rule (one connection, the last to open, acknowledges what it received,
// at the end of the epoll round), kept to reproduce earlier figures: it favours a
// server that happens to write that connection first.
enum class AckWhen : std::uint8_t { All, One };

class FanoutWorkload final : public Workload {
 public:
  FanoutWorkload(ClientLoop& loop, Window& w, std::uint64_t ack_every, AckWhen when)
      : loop_(loop), w_(w), ack_every_(ack_every), when_(when) {}
  std::uint64_t first_ns = 0;
  std::uint32_t ack_index = 0;

  void on_message(Conn& c, Op, std::string_view m) override {
    std::uint64_t seq = 0, ts = 0;
    if (!bench_fields(m, seq, ts)) {
      ++w_.other;
      return;
    }
    const std::uint64_t now = loop_.recv_ns();
    if (first_ns == 0) first_ns = now;
    if (!c.seen_first) {
      c.seen_first = true;
    } else if (seq != c.next_seq) {
      if (seq > c.next_seq) {
        w_.gaps += seq - c.next_seq;
      } else {
        ++w_.disorder;
      }
    }
    c.next_seq = seq + 1;
    ++w_.total;
    if (w_.measuring) {
      ++w_.count;
      w_.latency.record_ns(now > ts ? now - ts : 0);
    }
    if (ack_every_ == 0) return;
    if (when_ == AckWhen::One) {
      if (c.index == ack_index && seq % ack_every_ == 0) ack(c, seq, false);
      return;
    }
    // c.b: the next checkpoint (seq / ack_every) this connection has not passed yet.
    for (const std::uint64_t cp = seq / ack_every_; c.b <= cp; ++c.b) {
      Checkpoint& slot = ring_[c.b % kRing];
      if (slot.cp != c.b) slot = Checkpoint{c.b, 0};
      ++slot.reached;
    }
    const std::size_t open = loop_.open_count();
    while (true) {
      const Checkpoint& slot = ring_[next_ack_ % kRing];
      if (slot.cp != next_ack_ || slot.reached < open) break;
      Conn* to = ack_index < loop_.conns().size() ? loop_.conns()[ack_index].get() : &c;
      ack(to->state == ConnState::Open ? *to : c, next_ack_ * ack_every_, true);
      ++next_ack_;
    }
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  // Checkpoints in progress: the credit window keeps at most window / ack_every + 1
  // of them open, far fewer than the ring holds.
  static constexpr std::size_t kRing = 1024;
  struct Checkpoint {
    std::uint64_t cp = ~0ull;
    std::size_t reached = 0;  // connections that have received seq cp * ack_every
  };

  void ack(Conn& c, std::uint64_t seq, bool now) {
    char text[32];
    const int n = std::snprintf(text, sizeof text, "A%llu", static_cast<unsigned long long>(seq));
    std::string frame;
    append_masked_frame(frame, Op::Text, std::string_view(text, static_cast<std::size_t>(n)), mask_++);
    if (now) {
      loop_.send(c, frame);
    } else {
      loop_.queue(c, frame);
    }
  }

  ClientLoop& loop_;
  Window& w_;
  std::uint64_t ack_every_;
  AckWhen when_;
  std::uint32_t mask_ = 0x5A17C3E1;
  std::uint64_t next_ack_ = 0;  // the next checkpoint to acknowledge
  std::vector<Checkpoint> ring_ = std::vector<Checkpoint>(kRing);
};

// Echo: each connection keeps `depth` text messages in flight. A message is
// "E<seq:10><:><ts:20>" padded to `size`; the reply must be the same text, in order.
// Messages are written straight into the connection's batch (masked while
// copied from a template, no allocation, no printf): the raw peer's limit is
// only measurable if the load generator costs less than the server.
class EchoWorkload final : public Workload {
 public:
  EchoWorkload(ClientLoop& loop, Window& w, std::size_t depth, std::size_t size)
      : loop_(loop), w_(w), depth_(depth), text_(size < 32 ? 32 : size, 'x') {
    text_[0] = 'E';
    text_[11] = ':';
  }

  void on_open(Conn& c) override {
    const std::uint64_t now = mono_ns();
    for (std::size_t i = 0; i < depth_; ++i) send_next(c, now);
  }
  void on_message(Conn& c, Op, std::string_view m) override {
    if (m.size() != text_.size() || m[0] != 'E') {
      ++w_.other;
      return;
    }
    const std::uint64_t seq = parse_u64(m, 1);
    const std::uint64_t ts = parse_u64(m, 12);
    if (seq != c.a) {
      if (seq > c.a) {
        w_.gaps += seq - c.a;
      } else {
        ++w_.disorder;
      }
    }
    c.a = seq + 1;
    ++w_.total;
    // One clock read per recv(): the arrival time of every reply it returned, and
    // the send time of the messages sent in answer (at the end of this epoll round).
    const std::uint64_t now = loop_.recv_ns();
    if (w_.measuring) {
      ++w_.count;
      w_.latency.record_ns(now > ts ? now - ts : 0);
    }
    send_next(c, now);
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  void send_next(Conn& c, std::uint64_t now) {
    write_fixed_digits(text_.data() + 1, c.next_seq++, 10);
    write_fixed_digits(text_.data() + 12, now, 20);
    append_masked_frame(loop_.batch_of(c), Op::Text, text_, mask_++);
  }
  ClientLoop& loop_;
  Window& w_;
  std::size_t depth_;
  std::string text_;  // the next message, rewritten in place
  std::uint32_t mask_ = 0x31C2A5F7;
};

// Accept rate: `conns` slots, each connects, upgrades (with the JWT), waits for
// the server's first frame (a handshake counts only once the server has
// verified the token and spoken on the socket), then resets and starts again.
class AcceptWorkload final : public Workload {
 public:
  AcceptWorkload(ClientLoop& loop, Window& w) : loop_(loop), w_(w) {}
  std::uint64_t failures = 0;

  void on_message(Conn& c, Op, std::string_view m) override {
    if (m.find("\"error\"") != std::string_view::npos) {
      ++w_.rejected;
    } else {
      ++w_.total;
      if (w_.measuring) {
        ++w_.count;
        w_.latency.record_ns(mono_ns() - c.started_ns);
      }
    }
    loop_.close_reset(c);
    loop_.reconnect(c);
  }
  void on_closed(Conn& c, const char*) override {
    ++failures;
    loop_.reconnect(c);
  }

 private:
  ClientLoop& loop_;
  Window& w_;
};

// Ping RTT at low load: WebSocket pings carrying the send time, `interval_ns` apart per connection.
class PingWorkload final : public Workload {
 public:
  PingWorkload(ClientLoop& loop, Window& w, std::uint64_t interval_ns)
      : loop_(loop), w_(w), interval_(interval_ns) {}

  void tick(std::uint64_t now) {
    for (auto& cp : loop_.conns()) {
      Conn& c = *cp;
      if (c.state != ConnState::Open || now < c.a) continue;
      c.a = now + interval_;
      c.b = mono_ns();  // the ping in flight; a pong for anything else is not timed
      const std::string payload = std::to_string(c.b);
      std::string frame;
      append_masked_frame(frame, Op::Ping, payload, mask_++);
      loop_.send(c, frame);
    }
  }
  void on_open(Conn& c) override { c.a = mono_ns() + interval_ * c.index / 16; }
  void on_pong(Conn& c, std::string_view p) override {
    const std::uint64_t ts = parse_u64(p, 0);
    const std::uint64_t now = mono_ns();
    if (ts == 0 || ts != c.b) {  // e.g. a second pong for the same ping
      ++w_.other;
      return;
    }
    c.b = 0;
    ++w_.total;
    if (w_.measuring) {
      ++w_.count;
      w_.latency.record_ns(now - ts);
    }
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  ClientLoop& loop_;
  Window& w_;
  std::uint64_t interval_;
  std::uint32_t mask_ = 0x7711AA55;
};

// Inbound flood: every connection writes pre-masked JSON messages as fast as
// its socket takes them, within a credit window: the application answers
// "A<count>" (on any connection) every few thousand messages it has consumed,
// and at most `window` messages may be sent beyond the last count. The rate is
// then what the server sustains without dropping (window 0 = no credit: an
// overload test, where a server may drop and count).
class FloodWorkload final : public Workload {
 public:
  FloodWorkload(ClientLoop& loop, Window& w, std::size_t size, std::uint64_t window)
      : loop_(loop), w_(w), window_(window) {
    XorShift rng;
    for (int i = 0; i < kBatch; ++i) {
      std::string text = "{\"t\":\"flood\",\"n\":" + std::to_string(i) + ",\"p\":\"";
      while (text.size() + 2 < size) text.push_back('x');
      text += "\"}";
      append_masked_frame(batch_, Op::Text, text, static_cast<std::uint32_t>(rng.next()));
    }
  }
  std::uint64_t sent = 0;  // messages handed to the kernel (whole run)
  std::uint64_t sent_window = 0;
  std::uint64_t acked = 0;  // the application's last count

  // Flooding starts once every connection is open (start()), so the accept
  // path does not compete with the flood.
  void start() {
    started_ = true;
    for (auto& c : loop_.conns())
      if (c->state == ConnState::Open) pump(*c);
  }
  void on_writable(Conn& c) override {
    if (started_) pump(c);
  }
  void on_message(Conn&, Op, std::string_view m) override {
    if (m.size() > 1 && m[0] == 'A') {
      const std::uint64_t n = parse_u64(m, 1);
      if (n > acked) acked = n;
      std::vector<Conn*> retry;
      retry.swap(stalled_);
      for (Conn* c : retry) pump(*c);
      return;
    }
    ++w_.other;
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  static constexpr int kBatch = 64;
  bool started_ = false;
  std::vector<Conn*> stalled_;
  void pump(Conn& c) {
    for (int i = 0; i < 4 && c.state == ConnState::Open && !loop_.has_backlog(c); ++i) {
      if (window_ != 0 && sent + kBatch > acked + window_) {
        stalled_.push_back(&c);  // an ack pumps it again
        return;
      }
      loop_.send(c, batch_);
      sent += kBatch;
      if (w_.measuring) sent_window += kBatch;
    }
    if (c.state == ConnState::Open) loop_.want_writable(c);
  }
  ClientLoop& loop_;
  Window& w_;
  std::uint64_t window_;
  std::string batch_;
};

}  // namespace wse::bench
