#include "wse/cluster/redis_connection.hpp"

#include <openssl/ssl.h>

#include <algorithm>

#include "wse/cluster/resp_writer.hpp"

namespace wse::cluster {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kFeedSlice = 2048;
}  // namespace

RedisConnection::RedisConnection(asio::io_context& io, asio::ssl::context* tls, const RedisUrl& url,
                                 ConnectionTarget target, std::string client_name,
                                 RedisConnectionHandler& handler, RespLimits limits)
    : tls_ctx_(tls),
      url_(url),
      target_(std::move(target)),
      client_name_(std::move(client_name)),
      handler_(handler),
      resolver_(io),
      socket_(io),
      connect_timer_(io),
      reader_(limits) {}

RedisConnection::~RedisConnection() {
  asio::error_code ec;
  socket_.close(ec);
}

std::string RedisConnection::endpoint() const {
  const bool v6 = target_.host.find(':') != std::string::npos;
  return (v6 ? "[" + target_.host + "]" : target_.host) + ":" + std::to_string(target_.port);
}

void RedisConnection::connect() {
  if (state_ != State::Idle) return;
  state_ = State::Connecting;
  auto self = shared_from_this();
  connect_timer_.expires_after(
      std::chrono::milliseconds(static_cast<std::int64_t>(url_.connect_timeout_s * 1000)));
  connect_timer_.async_wait([this, self](const asio::error_code& ec) {
    if (ec || state_ == State::Ready || state_ == State::Closed) return;
    fail("timed out connecting to " + endpoint());
  });
  resolver_.async_resolve(
      target_.host, std::to_string(target_.port),
      [this, self](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        if (state_ != State::Connecting) return;
        if (ec) {
          fail("cannot resolve " + target_.host + ": " + ec.message());
          return;
        }
        asio::async_connect(socket_, results,
                            [this, self](const asio::error_code& e, const asio::ip::tcp::endpoint&) {
                              if (state_ != State::Connecting) return;
                              if (e) {
                                fail("cannot connect to " + endpoint() + ": " + e.message());
                                return;
                              }
                              on_connected();
                            });
      });
}

void RedisConnection::on_connected() {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
  if (tls_ctx_ == nullptr) {
    start_handshake();
    return;
  }
  tls_stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls_ctx_);
  asio::error_code addr_ec;
  (void)asio::ip::make_address(target_.host, addr_ec);
  const bool is_name = static_cast<bool>(addr_ec);
  // SNI only for names (RFC 6066 forbids IP literals).
  // (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
  if (is_name)
    SSL_ctrl(tls_stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(target_.host.c_str()));
  if (url_.tls_verify != TlsVerify::None) {
    tls_stream_->set_verify_mode(asio::ssl::verify_peer);
    if (url_.tls_check_hostname)
      tls_stream_->set_verify_callback(asio::ssl::host_name_verification(target_.host));
  } else {
    tls_stream_->set_verify_mode(asio::ssl::verify_none);
  }
  auto self = shared_from_this();
  tls_stream_->async_handshake(asio::ssl::stream_base::client, [this, self](const asio::error_code& e) {
    if (state_ != State::Connecting) return;
    if (e) {
      fail("TLS handshake with " + endpoint() + " failed: " + e.message());
      return;
    }
    start_handshake();
  });
}

void RedisConnection::start_handshake() {
  state_ = State::Handshake;
  std::string cmds;
  handshake_replies_ = 0;
  if (url_.has_password) {
    if (url_.username.empty()) {
      append_command(cmds, {"AUTH", url_.password});
    } else {
      append_command(cmds, {"AUTH", url_.username, url_.password});
    }
    ++handshake_replies_;
  }
  if (target_.select_db && url_.db != 0) {
    append_command(cmds, {"SELECT", std::to_string(url_.db)});
    ++handshake_replies_;
  }
  if (!client_name_.empty()) {
    append_command(cmds, {"CLIENT", "SETNAME", client_name_});
    ++handshake_replies_;
    setname_pending_ = true;
  }
  read_more();
  if (handshake_replies_ == 0) {
    state_ = State::Ready;
    connect_timer_.cancel();
    handler_.on_ready(*this);
    return;
  }
  // Handshake bytes go ahead of anything the owner queues once ready.
  out_.insert(0, cmds);
  write_now();
}

void RedisConnection::handle_handshake_reply(RespValue& reply) {
  const bool last = --handshake_replies_ == 0;
  // CLIENT SETNAME may be refused (an ACL without it, a proxy): harmless. NOAUTH is not.
  const bool tolerated = last && setname_pending_ && !reply.str.starts_with("NOAUTH");
  if (reply.is_error() && !tolerated) {
    std::string why = reply.str;
    if (why.starts_with("WRONGPASS") || why.starts_with("NOAUTH") || why.find("AUTH") != std::string::npos) {
      fail("Redis refused the credentials of " + url_.redacted() + ": " + why);
    } else {
      fail("Redis refused the connection set-up: " + why);
    }
    return;
  }
  if (last) {
    state_ = State::Ready;
    connect_timer_.cancel();
    handler_.on_ready(*this);
  }
}

void RedisConnection::read_more() {
  if (state_ == State::Closed) return;
  if (!read_buf_) read_buf_ = std::make_unique<char[]>(kReadChunk);
  auto self = shared_from_this();
  auto on_done = [this, self](const asio::error_code& ec, std::size_t n) {
    if (state_ == State::Closed) return;
    if (ec) {
      fail(ec == asio::error::eof ? "Redis closed the connection"
                                  : "read from Redis failed: " + ec.message());
      return;
    }
    on_read(n);
  };
  if (is_tls()) {
    tls_stream_->async_read_some(asio::buffer(read_buf_.get(), kReadChunk), std::move(on_done));
  } else {
    socket_.async_read_some(asio::buffer(read_buf_.get(), kReadChunk), std::move(on_done));
  }
}

void RedisConnection::on_read(std::size_t n) {
  bytes_read_ += n;
  // Fed in small slices: hiredis' reader compacts its buffer (a memmove of what is left) each
  // time it has consumed 1 KiB, so feeding a whole 64 KiB read of small replies at once would
  // move the buffer's tail dozens of times.
  for (std::size_t at = 0; at < n && (state_ == State::Handshake || state_ == State::Ready);
       at += kFeedSlice) {
    if (!reader_.feed(std::string_view(read_buf_.get() + at, std::min(kFeedSlice, n - at)))) {
      fail("bad reply from Redis: " + reader_.error());
      return;
    }
    while (state_ == State::Handshake || state_ == State::Ready) {
      std::optional<RespValue> reply = reader_.next();
      if (!reply) break;
      if (state_ == State::Handshake) {
        handle_handshake_reply(*reply);
      } else {
        handler_.on_reply(*this, std::move(*reply));
      }
    }
  }
  if (state_ == State::Closed) return;
  if (state_ == State::Ready) handler_.on_batch_end(*this);
  if (state_ == State::Closed) return;
  if (reader_.failed()) {
    fail("bad reply from Redis: " + reader_.error());
    return;
  }
  read_more();
}

void RedisConnection::flush() {
  if (state_ != State::Ready && state_ != State::Handshake) return;
  if (!write_in_flight_ && !out_.empty()) write_now();
}

void RedisConnection::write_now() {
  if (write_in_flight_ || out_.empty() || state_ == State::Closed) return;
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  auto self = shared_from_this();
  auto on_done = [this, self](const asio::error_code& ec, std::size_t) {
    write_in_flight_ = false;
    if (state_ == State::Closed) return;
    if (ec) {
      fail("write to Redis failed: " + ec.message());
      return;
    }
    writing_.clear();
    // Keep big buffers from pinning memory after a burst.
    if (writing_.capacity() > (4u << 20)) std::string().swap(writing_);
    if (!out_.empty()) write_now();
  };
  if (is_tls()) {
    asio::async_write(*tls_stream_, asio::buffer(writing_), std::move(on_done));
  } else {
    asio::async_write(socket_, asio::buffer(writing_), std::move(on_done));
  }
}

void RedisConnection::fail(const std::string& reason) {
  if (state_ == State::Closed) return;
  const bool established = state_ == State::Ready;
  close();
  handler_.on_closed(*this, reason, established);
}

void RedisConnection::close() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  asio::error_code ec;
  connect_timer_.cancel();
  resolver_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  out_.clear();
}

}  // namespace wse::cluster
