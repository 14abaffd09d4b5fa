#include "wse/transport/config.hpp"

#include <string>

#include "wse/util/errors.hpp"

namespace wse::transport {

namespace {
[[noreturn]] void bad(const std::string& what) { throw InvalidArgument(what); }
}  // namespace

void ServerConfig::validate() const {
  if (host.empty()) bad("host must not be empty");
  if (max_connections == 0) bad("max_connections must be at least 1");
  if (jwt_secret && jwt_secret->empty()) bad("jwt_secret must not be empty (pass None to disable JWT)");
  if (io_threads > 256) bad("io_threads must be between 0 (one per core) and 256");
  if (max_message_size < 125 || max_message_size > (std::size_t{1} << 30))
    bad("max_message_size must be between 125 bytes and 1 GiB");
  if (max_outbound_bytes < 1024) bad("max_outbound_bytes must be at least 1024");
  if (max_inbound_queue_size == 0) bad("max_inbound_queue_size must be at least 1");
  if (heartbeat_interval_ms < 0) bad("heartbeat_interval must be >= 0 (0 disables)");
  if (idle_timeout_ms < 0) bad("idle_timeout must be >= 0 (0 disables)");
  if (handshake_timeout_ms <= 0) bad("handshake_timeout must be > 0");
  if (rate_limit_capacity < 1 && rate_limit_refill > 0) bad("rate_limit_capacity must be >= 1");
  if (rate_limit_refill < 0) bad("rate_limit_refill must be >= 0 (0 disables)");
  if (compression_level < 1 || compression_level > 9) bad("compression_level must be between 1 and 9");
  if (subscription_policy)
    for (const auto& p : *subscription_policy)
      if (p.empty()) bad("subscription_policy patterns must not be empty");
  if (backlog < 1) bad("backlog must be >= 1");
}

}  // namespace wse::transport
