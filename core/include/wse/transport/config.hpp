#pragma once
// Every knob of the standalone server, with its default and why. The Python
// constructor and the CLI (WSE_* environment variables) map onto these fields
// one to one; validate() rejects nonsense before anything starts.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wse/protocol/spec.hpp"

namespace wse::transport {

enum class SlowConsumerPolicy : std::uint8_t {
  Close,  // close with 1013 once the outbound byte cap is exceeded (default: memory stays bounded)
  Drop,   // drop the new message and count it (the client sees a gap in seq)
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = static_cast<std::uint16_t>(spec::kDefaultPort);
  // Accepted WebSocket connections at once; the next handshake gets HTTP 503.
  std::size_t max_connections = static_cast<std::size_t>(spec::kDefaultMaxConnections);
  // HS256 JWT validation on upgrade when set; issuer/audience checked only when set.
  std::optional<std::string> jwt_secret;
  std::optional<std::string> jwt_issuer;
  std::optional<std::string> jwt_audience;
  // Auth failure as HTTP 401 before the upgrade instead of error frame + close 4401.
  bool auth_reject_http = false;
  // I/O threads (shards); 0 = one per core.
  std::size_t io_threads = 0;
  // A shard woken by a fan-out post (publish, broadcast) from a thread running on
  // its own core yields once before running it: the poster (usually a Python
  // loop) queues its whole burst, and the shard writes it in one vectored write
  // per subscriber instead of one per message (docs/BENCHMARKS.md shows both
  // settings). Sends, network wake-ups and posts from other cores never yield (a
  // send reaches one connection: request/response replies gain nothing from it).
  // false = never yield.
  bool coalesce_bursts = true;
  // Largest inbound message after reassembly/inflation; larger closes with 1009.
  std::size_t max_message_size = static_cast<std::size_t>(spec::kDefaultMaxMessageSize);
  // Bytes queued towards one connection before the slow-consumer policy applies.
  std::size_t max_outbound_bytes = 4u << 20;
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::Close;
  // Inbound events waiting for Python; beyond it events are dropped and counted.
  std::size_t max_inbound_queue_size = static_cast<std::size_t>(spec::kDefaultMaxInboundQueueSize);
  // WebSocket ping after this long without sending anything; 0 disables.
  std::int64_t heartbeat_interval_ms = spec::kDefaultHeartbeatIntervalMs;
  // Close (1001) after this long without receiving anything; 0 disables.
  std::int64_t idle_timeout_ms = spec::kDefaultIdleTimeoutMs;
  // Time a client has to complete its HTTP upgrade request.
  std::int64_t handshake_timeout_ms = 10'000;
  // Per-connection inbound token bucket (messages); refill 0 disables limiting.
  double rate_limit_capacity = 10'000;
  double rate_limit_refill = 10'000;  // tokens per second
  // zlib level for C: frames built by send_event.
  int compression_level = static_cast<int>(spec::kDefaultCompressionLevel);
  // Topic patterns a client may subscribe to by itself ({user_id} substituted);
  // unset = client subscription_update goes to the application.
  std::optional<std::vector<std::string>> subscription_policy;
  // Offer end-to-end encryption (ECDH P-256 + AES-GCM, PROTOCOL.md 6.3) to
  // clients that ask with ?encryption=true; costs nothing for the others.
  bool encryption = true;
  // Origins allowed to connect (empty = any); others get HTTP 403.
  std::vector<std::string> allowed_origins;
  // listen() backlog.
  int backlog = 4096;

  // Throws wse::InvalidArgument naming the field on a bad value.
  void validate() const;
};

}  // namespace wse::transport
