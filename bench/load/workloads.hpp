#pragma once
// The workloads of the side-by-side benchmarks. Each is driven by the same
// ClientLoop; they differ only in what they send and what they check. The
// conventions every peer under test follows are in bench/README.md.
#include <cstdint>
#include <cstdio>
#include <string>

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
    seq = 0;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9')
      seq = seq * 10 + static_cast<std::uint64_t>(m[i++] - '0');
    if (m.substr(i, kTs.size()) == kTs) {
      i += kTs.size();
      if (i >= m.size() || m[i] < '0' || m[i] > '9') return false;
      ts = parse_u64(m, i);
      return true;
    }
  }
  return json_u64(m, "\"seq\"", seq) && json_u64(m, "\"ts\"", ts);
}

// Fan-out receive: every message carries "seq" (per topic, from 0) and "ts"
// (CLOCK_MONOTONIC ns at publish). Each connection checks its sequence; one
// connection (the last to open) acknowledges every `ack_every`-th seq with a
// text "A<seq>" so the publisher keeps a bounded number of messages in flight.
class FanoutWorkload final : public Workload {
 public:
  FanoutWorkload(ClientLoop& loop, Window& w, std::uint64_t ack_every)
      : loop_(loop), w_(w), ack_every_(ack_every) {}
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
    if (ack_every_ != 0 && c.index == ack_index && seq % ack_every_ == 0) {
      char text[32];
      const int n = std::snprintf(text, sizeof text, "A%llu", static_cast<unsigned long long>(seq));
      std::string frame;
      append_masked_frame(frame, Op::Text, std::string_view(text, static_cast<std::size_t>(n)), mask_++);
      loop_.queue(c, frame);
    }
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  ClientLoop& loop_;
  Window& w_;
  std::uint64_t ack_every_;
  std::uint32_t mask_ = 0x5A17C3E1;
};

// Echo: each connection keeps `depth` text messages in flight. A message is
// "E<seq:10><:><ts:20>" padded to `size`; the reply must be the same text, in order.
class EchoWorkload final : public Workload {
 public:
  EchoWorkload(ClientLoop& loop, Window& w, std::size_t depth, std::size_t size)
      : loop_(loop), w_(w), depth_(depth), size_(size < 32 ? 32 : size) {}

  void on_open(Conn& c) override {
    for (std::size_t i = 0; i < depth_; ++i) send_next(c);
  }
  void on_message(Conn& c, Op, std::string_view m) override {
    if (m.size() != size_ || m[0] != 'E') {
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
    const std::uint64_t now = mono_ns();
    if (w_.measuring) {
      ++w_.count;
      w_.latency.record_ns(now - ts);
    }
    send_next(c);
  }
  void on_closed(Conn&, const char*) override { ++w_.closed; }

 private:
  void send_next(Conn& c) {
    std::string text(size_, 'x');
    std::snprintf(text.data(), 33, "E%010llu:%020llu", static_cast<unsigned long long>(c.next_seq++),
                  static_cast<unsigned long long>(mono_ns()));
    text[32] = 'x';  // snprintf's terminator
    std::string frame;
    append_masked_frame(frame, Op::Text, text, mask_++);
    loop_.queue(c, frame);
  }
  ClientLoop& loop_;
  Window& w_;
  std::size_t depth_;
  std::size_t size_;
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
