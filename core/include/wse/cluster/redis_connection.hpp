#pragma once
// One connection to one Redis server, driven by the broker's Asio loop:
// resolve, TCP connect (or TLS for rediss://), then the handshake commands
// (AUTH user password, SELECT db, CLIENT SETNAME) pipelined in one write.
// After that, bytes the caller queues are written in order with one write in
// flight, and every reply parsed by RespReader is handed to the Handler.
//
// Thread-safety: none; everything runs on the thread of the io_context it was
// made with. Handler calls happen on that thread. close() by the owner is
// silent (no on_closed); any other end of the connection reports on_closed once.
// Lifetime: owned through shared_ptr; pending Asio operations keep it alive.
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wse/cluster/redis_url.hpp"
#include "wse/cluster/resp_reader.hpp"

namespace wse::cluster {

class RedisConnection;

class RedisConnectionHandler {
 public:
  virtual ~RedisConnectionHandler() = default;
  virtual void on_ready(RedisConnection& conn) = 0;
  virtual void on_reply(RedisConnection& conn, RespValue&& reply) = 0;
  // After the replies parsed from one read (a natural point to refill a pipeline).
  virtual void on_batch_end(RedisConnection& /*conn*/) {}
  // `established`: the handshake had completed (the connection had been usable).
  virtual void on_closed(RedisConnection& conn, const std::string& reason, bool established) = 0;
};

struct ConnectionTarget {
  std::string host;
  std::uint16_t port = 0;
  bool select_db = true;  // SELECT is refused by Redis Cluster
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  // `tls` is null for plain TCP; it must outlive the connection. `url` supplies
  // credentials, db, TLS verification and the connect timeout.
  RedisConnection(asio::io_context& io, asio::ssl::context* tls, const RedisUrl& url, ConnectionTarget target,
                  std::string client_name, RedisConnectionHandler& handler, RespLimits limits = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void connect();
  // Silent close: no further handler calls.
  void close();
  bool ready() const noexcept { return state_ == State::Ready; }
  bool closed() const noexcept { return state_ == State::Closed; }

  // Bytes of one or more complete RESP commands; written in order. Ignored
  // unless ready(). Call flush() after a batch (cheap when nothing is queued).
  std::string& out() noexcept { return out_; }
  void flush();
  std::size_t queued_bytes() const noexcept { return out_.size() + writing_.size(); }

  const ConnectionTarget& target() const noexcept { return target_; }
  std::string endpoint() const;
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }

 private:
  enum class State : std::uint8_t { Idle, Connecting, Handshake, Ready, Closed };
  void fail(const std::string& reason);
  void on_connected();
  void start_handshake();
  void read_more();
  void on_read(std::size_t n);
  void write_now();
  void handle_handshake_reply(RespValue& reply);
  bool is_tls() const noexcept { return tls_stream_ != nullptr; }

  asio::ssl::context* tls_ctx_;
  const RedisUrl& url_;
  ConnectionTarget target_;
  std::string client_name_;
  RedisConnectionHandler& handler_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;  // plain TCP, or the transport under tls_stream_
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_stream_;
  asio::steady_timer connect_timer_;
  RespReader reader_;
  State state_ = State::Idle;
  std::size_t handshake_replies_ = 0;  // still expected
  bool setname_pending_ = false;       // the last handshake reply is CLIENT SETNAME (errors tolerated)
  std::string out_, writing_;
  bool write_in_flight_ = false;
  std::unique_ptr<char[]> read_buf_;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace wse::cluster
