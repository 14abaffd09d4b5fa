// RedisBroker against a real redis-server child process, so that the
// sanitizer build (ASan + UBSan + LeakSanitizer) covers the connection,
// reconnection, pipelining and receive paths, not only the pure parts.
// Skipped when redis-server is not installed (make setup installs it).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wse/cluster/redis_broker.hpp"

extern char** environ;

using namespace wse::cluster;
using namespace std::chrono_literals;

namespace {

bool redis_installed() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_answers(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// One redis-server process on a fixed port; kill() and start() again.
class RedisProcess {
 public:
  explicit RedisProcess(int port) : port_(port) {}
  ~RedisProcess() { kill(); }
  bool start() {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {"redis-server", "--port", port,    "--bind", "127.0.0.1", "--save",   "",
                                     "--appendonly", "no",     "--dir", "/tmp",   "--logfile", "/dev/null"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) return false;
    for (int i = 0; i < 500; ++i) {
      if (port_answers(port_)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  void add(std::string_view payload) {
    std::lock_guard lock(mu);
    got.emplace_back(payload);
    cv.notify_all();
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return got.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return got.size();
  }
};

template <class F>
bool eventually(F&& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// (Appending instead of `"literal" + std::string` sidesteps a GCC 12 -Wrestrict false positive.)
std::string numbered(std::string prefix, int n) {
  prefix.append(std::to_string(n));
  return prefix;
}

RedisBrokerOptions options_for(int port) {
  RedisBrokerOptions o;
  o.url = parse_redis_url(numbered("redis://127.0.0.1:", port));
  return o;
}

}  // namespace

TEST(RedisBroker, DeliversExactlyOnceAcrossBrokersAndSurvivesARestart) {
  if (!redis_installed()) GTEST_SKIP() << "redis-server not installed";
  RedisProcess redis(free_port());
  ASSERT_TRUE(redis.start());
  Inbox on_a, on_b;
  RedisBroker a(options_for(redis.port())), b(options_for(redis.port()));
  a.start([&](std::string_view, std::string_view payload, bool) { on_a.add(payload); });
  b.start([&](std::string_view, std::string_view payload, bool) { on_b.add(payload); });
  a.interest_added("t:1");
  a.interest_added("t:*");  // overlapping: Redis sends both a message and a pmessage
  b.interest_added("t:*");
  ASSERT_TRUE(eventually([&] { return a.health().subscriptions == 2 && b.health().subscriptions == 1; }));

  for (int i = 0; i < 500; ++i) a.publish("t:1", numbered("m", i), false);
  ASSERT_TRUE(on_a.wait_for_count(500, 10s));
  ASSERT_TRUE(on_b.wait_for_count(500, 10s));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(on_a.size(), 500u);  // not 1000: the pmessage copies were dropped
  EXPECT_EQ(on_b.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(on_a.got[static_cast<std::size_t>(i)], numbered("m", i));
  EXPECT_EQ(a.health().duplicates_suppressed, 500u);

  redis.kill();
  ASSERT_TRUE(eventually([&] { return !a.health().connected; }));
  for (int i = 0; i < 50; ++i) a.publish("t:1", "lost", false);
  ASSERT_TRUE(eventually([&] { return a.health().dlq_size == 50; }, 5s));
  auto dead = a.drain_dead_letters();
  ASSERT_EQ(dead.size(), 50u);
  EXPECT_EQ(dead[0].channel, "wse:t:1");
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(eventually([&] { return a.health().connected && b.health().connected; }, 15s));
  ASSERT_TRUE(eventually([&] { return a.health().subscriptions == 2 && b.health().subscriptions == 1; }));
  a.publish("t:2", "after", false);
  ASSERT_TRUE(on_b.wait_for_count(501, 10s));
  EXPECT_EQ(on_b.got.back(), "after");
  EXPECT_GE(a.health().reconnect_count, 1u);
  a.stop();
  b.stop();
  EXPECT_FALSE(a.health().connected);
}

TEST(RedisBroker, StopsCleanlyWhileRedisIsUnreachable) {
  RedisBroker broker(options_for(free_port()));  // nothing listens there
  broker.start([](std::string_view, std::string_view, bool) {});
  broker.interest_added("x");
  broker.publish("x", "y", true);
  ASSERT_TRUE(eventually([&] { return broker.health().dlq_size == 1; }, 5s));
  broker.stop();
  broker.stop();  // idempotent
  broker.publish("x", "after stop", false);
  const auto dead = broker.drain_dead_letters();
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_TRUE(dead[0].binary);
  EXPECT_EQ(dead[1].error, "broker stopped");
}
