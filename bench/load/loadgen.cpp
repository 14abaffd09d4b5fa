// wse_loadgen: the native load generator of the side-by-side benchmarks.
//
//   wse_loadgen --workload fanout|echo|accept|ping|flood|idle --port P [options]
//
// One thread, one epoll loop, real WebSocket handshakes and masked frames. It
// waits for its connections, warms up, measures a window with CLOCK_MONOTONIC,
// and prints one JSON object: counts and rates of the window, sequence gaps of
// the whole run, latency percentiles, its own CPU (getrusage) and the server's
// (/proc/PID/stat), plus the server-side counter (--stats) when the peer keeps one.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "client_loop.hpp"
#include "meters.hpp"
#include "workloads.hpp"

namespace {

using namespace wse::bench;

struct Args {
  std::string workload = "fanout";
  std::string label;
  LoopOptions loop;
  std::size_t conns = 100;
  double warmup_s = 2;
  double duration_s = 10;
  std::size_t size = 100;
  std::size_t depth = 1;
  std::uint64_t ack_every = 0;
  AckWhen ack_when = AckWhen::All;
  std::uint64_t window = 65536;  // flood: messages beyond the application's last count
  std::uint64_t interval_us = 10'000;
  int server_pid = 0;
  std::string stats;
  double settle_s = 1;
  double connect_timeout_s = 60;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "wse_loadgen: %s\n"
               "usage: wse_loadgen --workload fanout|echo|accept|ping|flood|idle --port P\n"
               "  [--host 127.0.0.1] [--path /] [--token JWT] [--conns N] [--warmup S] [--duration S]\n"
               "  [--size BYTES] [--depth N (echo)] [--ack-every N (fanout)] [--ack-when all|one (fanout)]\n"
               "  [--interval-us N (ping)]\n"
               "  [--window N (flood credit; 0 = none)]\n"
               "  [--server-pid PID] [--stats FILE] [--read-delay-us N] [--max-connecting N]\n"
               "  [--settle S (idle)] [--connect-timeout S] [--label TEXT]\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + k).c_str());
    const std::string v = argv[++i];
    auto num = [&] { return std::strtod(v.c_str(), nullptr); };
    auto unum = [&] { return static_cast<std::uint64_t>(std::strtoull(v.c_str(), nullptr, 10)); };
    if (k == "--workload")
      a.workload = v;
    else if (k == "--label")
      a.label = v;
    else if (k == "--host")
      a.loop.host = v;
    else if (k == "--port")
      a.loop.port = static_cast<int>(unum());
    else if (k == "--path")
      a.loop.path = v;
    else if (k == "--token")
      a.loop.token = v;
    else if (k == "--conns")
      a.conns = unum();
    else if (k == "--warmup")
      a.warmup_s = num();
    else if (k == "--duration")
      a.duration_s = num();
    else if (k == "--size")
      a.size = unum();
    else if (k == "--depth")
      a.depth = unum();
    else if (k == "--ack-every")
      a.ack_every = unum();
    else if (k == "--ack-when" && (v == "all" || v == "one"))
      a.ack_when = v == "all" ? AckWhen::All : AckWhen::One;
    else if (k == "--window")
      a.window = unum();
    else if (k == "--interval-us")
      a.interval_us = unum();
    else if (k == "--server-pid")
      a.server_pid = static_cast<int>(unum());
    else if (k == "--stats")
      a.stats = v;
    else if (k == "--read-delay-us")
      a.loop.read_delay_us = static_cast<int>(unum());
    else if (k == "--max-connecting")
      a.loop.max_connecting = unum();
    else if (k == "--settle")
      a.settle_s = num();
    else if (k == "--connect-timeout")
      a.connect_timeout_s = num();
    else
      usage(("unknown option " + k).c_str());
  }
  if (a.loop.port <= 0) usage("--port is required");
  if (a.conns == 0) usage("--conns must be > 0");
  return a;
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out + "\"";
}

// Snapshot of the CPU meters and the server counter at a window edge.
struct Edge {
  std::uint64_t at = 0;
  double self_cpu = 0;
  double server_cpu = 0;
  CounterSample server;
  CpuTimes cores;
};
Edge edge(const Args& a) {
  Edge e;
  e.at = mono_ns();
  e.self_cpu = self_cpu_s();
  e.server_cpu = proc_cpu_s(a.server_pid);
  e.server = read_counter_file(a.stats);
  e.cores = cpu_times();
  return e;
}

// Runs the loop until `done()` or `timeout_s`; returns false on time-out.
template <class Done, class Tick>
bool run_until(ClientLoop& loop, double timeout_s, Done done, Tick tick) {
  const std::uint64_t limit = mono_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
  while (!done()) {
    if (mono_ns() > limit) return false;
    loop.run_once(1);
    tick(mono_ns());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  raise_fd_limit();
  ClientLoop loop(a.loop);
  Window w;
  std::unique_ptr<Workload> work;
  FanoutWorkload* fanout = nullptr;
  AcceptWorkload* accept = nullptr;
  PingWorkload* ping = nullptr;
  FloodWorkload* flood = nullptr;
  if (a.workload == "fanout") {
    auto p = std::make_unique<FanoutWorkload>(loop, w, a.ack_every, a.ack_when);
    p->ack_index = static_cast<std::uint32_t>(a.conns - 1);
    fanout = p.get();
    work = std::move(p);
  } else if (a.workload == "echo") {
    work = std::make_unique<EchoWorkload>(loop, w, a.depth, a.size);
  } else if (a.workload == "accept") {
    auto p = std::make_unique<AcceptWorkload>(loop, w);
    accept = p.get();
    work = std::move(p);
  } else if (a.workload == "ping") {
    auto p = std::make_unique<PingWorkload>(loop, w, a.interval_us * 1000);
    ping = p.get();
    work = std::move(p);
  } else if (a.workload == "flood") {
    auto p = std::make_unique<FloodWorkload>(loop, w, a.size, a.window);
    flood = p.get();
    work = std::move(p);
  } else if (a.workload == "idle") {
    work = std::make_unique<Workload>();
  } else {
    usage("unknown workload");
  }
  loop.set_workload(work.get());
  auto no_tick = [](std::uint64_t) {};
  auto tick = [&](std::uint64_t now) {
    if (ping != nullptr) ping->tick(now);
  };

  std::string error;
  const long long rss_before = proc_rss_bytes(a.server_pid);
  const std::uint64_t t_connect = mono_ns();
  loop.add(a.conns);
  double connect_s = 0;
  if (accept == nullptr) {
    const bool ok = run_until(
        loop, a.connect_timeout_s, [&] { return loop.open_count() == a.conns || w.closed > 0; }, tick);
    connect_s = static_cast<double>(mono_ns() - t_connect) / 1e9;
    if (!ok || loop.open_count() != a.conns)
      error = "only " + std::to_string(loop.open_count()) + " of " + std::to_string(a.conns) +
              " connections opened (" + loop.last_failure() + ")";
  }
  if (error.empty() && flood != nullptr) flood->start();
  long long rss_after = -1;
  if (error.empty() && a.workload == "idle") {
    run_until(
        loop, a.settle_s, [] { return false; }, no_tick);
    rss_after = proc_rss_bytes(a.server_pid);
  }
  if (error.empty() && fanout != nullptr) {
    // The window starts `warmup` after the first delivery (publishing starts once
    // the peer sees every subscriber).
    if (!run_until(
            loop, 30, [&] { return fanout->first_ns != 0; }, no_tick))
      error = "no message received within 30 s";
  }
  Edge start, end;
  if (error.empty()) {
    run_until(
        loop, a.warmup_s, [] { return false; }, tick);
    start = edge(a);
    w.measuring = true;
    w.latency.clear();
    run_until(
        loop, a.duration_s, [] { return false; }, tick);
    w.measuring = false;
    end = edge(a);
  }
  if (rss_after < 0 && a.workload == "idle") rss_after = proc_rss_bytes(a.server_pid);

  const double win = error.empty() ? static_cast<double>(end.at - start.at) / 1e9 : 0;
  const double rate = win > 0 ? static_cast<double>(w.count) / win : 0;
  const double client_cpu = win > 0 ? (end.self_cpu - start.self_cpu) / win : 0;
  const double server_cpu = win > 0 && start.server_cpu >= 0 ? (end.server_cpu - start.server_cpu) / win : -1;
  std::string out = "{";
  auto field = [&](const char* k, const std::string& v) {
    if (out.size() > 1) out += ",";
    out += "\"";
    out += k;
    out += "\":" + v;
  };
  auto num = [](double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return std::string(b);
  };
  field("workload", json_str(a.workload));
  field("label", json_str(a.label));
  field("conns", std::to_string(a.conns));
  field("size", std::to_string(a.size));
  field("ok", error.empty() ? "true" : "false");
  field("error", json_str(error));
  field("connect_s", num(connect_s));
  field("window_s", num(win));
  field("count", std::to_string(w.count));
  field("total", std::to_string(w.total));
  field("rate_per_s", num(rate));
  field("gaps", std::to_string(w.gaps));
  field("disorder", std::to_string(w.disorder));
  field("closed", std::to_string(w.closed));
  field("other_messages", std::to_string(w.other));
  field("rejected", std::to_string(w.rejected));
  field("connect_failures", std::to_string(loop.failures()));
  field("protocol_errors", std::to_string(loop.protocol_errors()));
  field("latency_us", "{\"samples\":" + std::to_string(w.latency.count()) +
                          ",\"p50\":" + num(w.latency.percentile_us(0.5)) +
                          ",\"p99\":" + num(w.latency.percentile_us(0.99)) +
                          ",\"p999\":" + num(w.latency.percentile_us(0.999)) +
                          ",\"max\":" + std::to_string(w.latency.max_us()) + "}");
  field("client_cpu", num(client_cpu));
  field("server_cpu", num(server_cpu));
  if (server_cpu >= 0 && w.count > 0)
    field("server_cpu_ns_per_op", num(server_cpu * win * 1e9 / static_cast<double>(w.count)));
  if (flood != nullptr) {
    field("client_sent_per_s", num(win > 0 ? static_cast<double>(flood->sent_window) / win : 0));
    field("flood_acked", std::to_string(flood->acked));
  }
  if (start.server.ok && end.server.ok && end.server.at_ns > start.server.at_ns) {
    const double sw = static_cast<double>(end.server.at_ns - start.server.at_ns) / 1e9;
    const double srate = static_cast<double>(end.server.count - start.server.count) / sw;
    field("server_count", std::to_string(end.server.count - start.server.count));
    field("server_rate_per_s", num(srate));
    if (server_cpu >= 0 && srate > 0) field("server_cpu_ns_per_server_op", num(server_cpu * 1e9 / srate));
  }
  if (a.workload == "idle") {
    field("rss_before", std::to_string(rss_before));
    field("rss_after", std::to_string(rss_after));
    if (rss_before > 0 && rss_after > 0)
      field("rss_per_conn_bytes",
            num(static_cast<double>(rss_after - rss_before) / static_cast<double>(a.conns)));
  }
  if (accept != nullptr) field("handshake_failures", std::to_string(accept->failures));
  // How busy each core was over the window, whoever used it: with the server on
  // core 0 and the load on core 1, busy minus our own CPU is what others took.
  if (!start.cores.total.empty() && start.cores.total.size() == end.cores.total.size()) {
    std::string cores = "[";
    for (std::size_t i = 0; i < start.cores.total.size(); ++i) {
      const double dt = static_cast<double>(end.cores.total[i] - start.cores.total[i]);
      const double db = static_cast<double>(end.cores.busy[i] - start.cores.busy[i]);
      cores += (i ? "," : "") + num(dt > 0 ? db / dt : 0);
    }
    field("core_busy", cores + "]");
  }
  field("last_failure", json_str(loop.last_failure()));
  out += "}";
  std::puts(out.c_str());
  return error.empty() ? 0 : 1;
}
