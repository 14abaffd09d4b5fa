#pragma once
// What the load generator measures besides its own counters: a latency
// histogram, its own CPU (getrusage), the server's CPU (/proc/PID/stat) and
// RSS (/proc/PID/status), and the server-side counter file that peers write
// (one "monotonic_ns count" line per update).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace wse::bench {

inline std::uint64_t mono_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Latency histogram in microseconds: 1 us buckets below 10 ms, then 1 ms
// buckets to 10 s. Percentiles are exact to the bucket width; no sampling, so
// every delivery of a run is in it (fixed memory, O(1) per record).
class Histogram {
 public:
  void record_ns(std::uint64_t ns) noexcept {
    const std::uint64_t us = ns / 1000;
    std::size_t i;
    if (us < kFine) {
      i = static_cast<std::size_t>(us);
    } else {
      const std::uint64_t ms = us / 1000;
      i = kFine + static_cast<std::size_t>(ms < kCoarse ? ms - kFine / 1000 : kCoarse - kFine / 1000 - 1);
    }
    ++buckets_[i];
    ++count_;
    if (us > max_us_) max_us_ = us;
  }
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max_us() const noexcept { return max_us_; }
  // Value (us) below which `q` (0..1) of the samples fall.
  double percentile_us(double q) const noexcept {
    if (count_ == 0) return 0;
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= want) {
        return i < kFine ? static_cast<double>(i) + 0.5
                         : static_cast<double>((i - kFine + kFine / 1000) * 1000) + 500.0;
      }
    }
    return static_cast<double>(max_us_);
  }
  void clear() noexcept {
    buckets_.fill(0);
    count_ = 0;
    max_us_ = 0;
  }

 private:
  static constexpr std::size_t kFine = 10'000;    // us
  static constexpr std::size_t kCoarse = 10'000;  // ms
  std::array<std::uint64_t, kFine + kCoarse> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_us_ = 0;
};

// CPU seconds (user + system) of this process.
inline double self_cpu_s() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of another process, all its threads (fields 14 and 15 of
// /proc/PID/stat, in clock ticks); negative when unreadable.
inline double proc_cpu_s(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return -1;
  const std::size_t close = line.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS of a process in bytes; negative when unreadable.
inline long long proc_rss_bytes(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Busy and total jiffies of each CPU (/proc/stat), to tell over a window how
// busy the cores were in all (others' processes included).
struct CpuTimes {
  std::vector<unsigned long long> busy, total;
};
inline CpuTimes cpu_times() {
  CpuTimes t;
  std::ifstream f("/proc/stat");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream in(line.substr(line.find(' ')));
    unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (auto& x : v) in >> x;
    const unsigned long long idle = v[3] + v[4];
    unsigned long long total = 0;
    for (auto x : v) total += x;
    t.busy.push_back(total - idle);
    t.total.push_back(total);
  }
  return t;
}

// Last complete "monotonic_ns count" line of a peer's counter file.
struct CounterSample {
  bool ok = false;
  std::uint64_t at_ns = 0;
  std::uint64_t count = 0;
};

inline CounterSample read_counter_file(const std::string& path) {
  CounterSample s;
  if (path.empty()) return s;
  std::ifstream f(path);
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty() && f.good()) last = line;  // a line without its newline yet is skipped
  std::istringstream in(last);
  if (in >> s.at_ns >> s.count) s.ok = true;
  return s;
}

}  // namespace wse::bench
