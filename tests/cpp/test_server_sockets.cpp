// server::Server on real loopback sockets, driven by blocking POSIX clients,
// mainly for the sanitizer build: they walk the I/O thread's epoll set through
// accept, upgrade, sends, server and peer closes, and a fork() that leaves
// copies of the sockets in a child. The shard removes a socket from its set
// before closing it; where a kernel keeps the registration of a closed
// descriptor alive through another copy, a missing removal would hand the loop
// a freed connection (a use-after-free for ASan). The kernel of our CI machine
// (6.18) reports no events for such a registration, so there the fork case
// checks that closes and new connections keep working around the child. One case
// publishes a buffer of several messages between single publishes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "wse/protocol/frame.hpp"
#include "wse/server/server.hpp"
#include "wse/transport/shared_frame.hpp"

namespace {

using namespace std::chrono_literals;

// A TCP client that has completed the upgrade; closes on destruction.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string request =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return;
    upgraded_ = read_until("\r\n\r\n").rfind("HTTP/1.1 101", 0) == 0;
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { close(); }

  bool upgraded() const { return upgraded_; }
  // A masked close frame (code 1000, mask key 0), the answer to the server's close.
  void send_close() {
    const unsigned char frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8};
    ::send(fd_, frame, sizeof frame, MSG_NOSIGNAL);
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Everything received until `marker` appears or 5 s pass (what has arrived so far).
  std::string read_until(std::string_view marker) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (buf_.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
    return buf_;
  }

 private:
  int fd_ = -1;
  bool upgraded_ = false;
  std::string buf_;
};

template <typename F>
bool eventually(F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

wse::transport::ServerConfig loopback_config() {
  wse::transport::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.io_threads = 1;
  return config;
}

using Clients = std::vector<std::unique_ptr<Client>>;

// n upgraded clients, and the server counts them all.
Clients open_clients(wse::server::Server& server, std::size_t n) {
  Clients clients;
  for (std::size_t i = 0; i < n; ++i) clients.push_back(std::make_unique<Client>(server.port()));
  for (auto& c : clients) EXPECT_TRUE(c->upgraded());
  EXPECT_TRUE(eventually([&] { return server.connection_count() == n; }));
  return clients;
}

// Sends `text` to every open connection; every client must receive it.
void send_to_all_and_check(wse::server::Server& server, Clients& clients, const std::string& text) {
  for (const auto& id : server.connection_ids())
    EXPECT_TRUE(server.send_frame(id, wse::transport::make_frame(wse::protocol::Opcode::Text, text)));
  for (auto& c : clients) EXPECT_NE(c->read_until(text).find(text), std::string::npos);
}

}  // namespace

TEST(ServerSockets, SendReachesEveryUpgradedClient) {
  wse::server::Server server(loopback_config());
  server.start();
  Clients clients = open_clients(server, 8);
  send_to_all_and_check(server, clients, "hello");
  server.stop();
}

// Single publishes (merged into runs by the shard) around a buffer that already
// carries several messages (publish_many()): every subscriber gets every message
// once, in publish order, and the delivery counter counts messages, not buffers.
TEST(ServerSockets, PublishBuffersOfSeveralMessagesKeepOrderAndCounts) {
  using wse::protocol::Opcode;
  using wse::transport::FrameBuffer;
  using wse::transport::FrameRef;
  wse::server::Server server(loopback_config());
  server.start();
  Clients clients = open_clients(server, 4);
  for (const auto& id : server.connection_ids()) ASSERT_TRUE(server.subscribe(id, {"t:*"}));
  ASSERT_TRUE(eventually([&] { return server.topic_subscriber_count("t:*") == 4; }));
  const std::uint64_t before = server.health().deliveries;
  const std::pair<Opcode, std::string_view> many[] = {
      {Opcode::Text, "<m2>"}, {Opcode::Text, "<m3>"}, {Opcode::Text, "<m4>"}};
  server.publish_local("t:1", wse::transport::make_frame(Opcode::Text, "<s0>"));
  server.publish_local("t:1", wse::transport::make_frame(Opcode::Text, "<s1>"));
  server.publish_local("t:1", FrameRef(FrameBuffer::create_many(many, 3)));
  server.publish_local("t:1", wse::transport::make_frame(Opcode::Text, "<s5>"));
  server.publish_local("t:1", wse::transport::make_frame(Opcode::Text, "<s6>"));
  for (auto& c : clients) {
    const std::string got = c->read_until("<s6>");
    std::size_t at = 0;
    for (const char* m : {"<s0>", "<s1>", "<m2>", "<m3>", "<m4>", "<s5>", "<s6>"}) {
      const std::size_t next = got.find(m, at);
      ASSERT_NE(next, std::string::npos) << m << " missing or out of order";
      at = next;
    }
  }
  EXPECT_TRUE(eventually([&] { return server.health().deliveries - before == 4 * 7; }));
  server.stop();
}

TEST(ServerSockets, ClosesWhileAForkedChildHoldsTheSockets) {
  wse::server::Server server(loopback_config());
  server.start();
  Clients first = open_clients(server, 16);
  ASSERT_EQ(server.connection_count(), 16U);

  // The child inherits every descriptor, the server's sockets included, and
  // keeps them open while the parent closes its connections.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::usleep(1'500'000);
    ::_exit(0);
  }
  // The server closes every connection; each client answers the close frame,
  // after which the server closes (and frees) its side while the TCP
  // connection lives on through the child's copy of the socket.
  for (const auto& id : server.connection_ids()) EXPECT_TRUE(server.disconnect(id, 1000, "bye"));
  ASSERT_TRUE(eventually([&] { return server.connection_count() == 0; }));
  for (auto& c : first) {
    c->read_until("bye");
    c->send_close();
  }
  std::this_thread::sleep_for(200ms);  // the server frees its side of each
  // Now the peers close: FIN on sockets the server no longer has but the child does.
  for (auto& c : first) c->close();
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(eventually([&] { return server.connection_count() == 0; }));

  Clients second = open_clients(server, 16);
  send_to_all_and_check(server, second, "again");

  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  second.clear();
  server.stop();
}
