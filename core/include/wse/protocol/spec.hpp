// Generated from spec/protocol.json by scripts/gen_spec.py. Do not edit.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace wse::spec {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kServerVersion = "0.1.0";

// Category prefixes of JSON text messages.
inline constexpr std::string_view kPrefixSystem = "WSE";
inline constexpr std::string_view kPrefixSnapshot = "S";
inline constexpr std::string_view kPrefixUpdate = "U";

// Two-byte markers that open binary frames.
inline constexpr std::string_view kMarkerCompressed = "C:";
inline constexpr std::string_view kMarkerMsgpack = "M:";
inline constexpr std::string_view kMarkerEncrypted = "E:";

// Message types whose envelopes carry the WSE prefix.
inline constexpr std::array<std::string_view, 8> kSystemMessageTypes = {
    "server_ready",
    "server_hello",
    "client_hello_ack",
    "connection_state_change",
    "subscription_update",
    "error",
    "pong",
    "PONG",
};
inline constexpr std::string_view kSnapshotContains = "_snapshot";
inline constexpr std::string_view kSnapshotStartsWith = "snapshot_";

// Message type names.
inline constexpr std::string_view kType_server_ready = "server_ready";
inline constexpr std::string_view kType_server_hello = "server_hello";
inline constexpr std::string_view kType_client_hello = "client_hello";
inline constexpr std::string_view kType_ping = "ping";
inline constexpr std::string_view kType_PING = "PING";
inline constexpr std::string_view kType_PONG = "PONG";
inline constexpr std::string_view kType_pong = "pong";
inline constexpr std::string_view kType_subscription_update = "subscription_update";
inline constexpr std::string_view kType_subscription = "subscription";
inline constexpr std::string_view kType_rate_limit_warning = "rate_limit_warning";
inline constexpr std::string_view kType_error = "error";
inline constexpr std::string_view kType_sync_request = "sync_request";
inline constexpr std::string_view kType_snapshot_complete = "snapshot_complete";
inline constexpr std::string_view kType_heartbeat = "heartbeat";
inline constexpr std::string_view kType_batch = "batch";

// WebSocket close codes: the closed vocabulary (see docs/PROTOCOL.md).
enum class CloseCode : uint16_t {
  NORMAL = 1000,  // normal closure (disconnect() default, client close)
  GOING_AWAY = 1001,  // idle timeout: nothing received for idle_timeout
  PROTOCOL_ERROR = 1002,  // RFC 6455 violation (bad frame, unmasked client frame, bad control frame)
  UNSUPPORTED_DATA = 1003,  // data type the endpoint cannot accept
  INVALID_PAYLOAD = 1007,  // text frame that is not valid UTF-8
  POLICY_VIOLATION = 1008,  // generic policy violation
  MESSAGE_TOO_BIG = 1009,  // message over max_message_size
  INTERNAL_ERROR = 1011,  // the server hit an unexpected condition
  SERVICE_RESTART = 1012,  // server stop(): reconnect with backoff
  TRY_AGAIN_LATER = 1013,  // slow consumer (outbound queue over its byte cap) or overload
  AUTH_FAILED = 4401,  // missing, invalid or expired token; get a new token before retrying
  FORBIDDEN = 4403,  // authenticated but not allowed (origin, policy)
  RATE_LIMITED = 4429,  // closed for sustained abuse of the rate limit
};

struct CloseCodeInfo {
  uint16_t code;
  std::string_view name;
  bool reconnect;  // whether a client should reconnect after it
};
inline constexpr std::array<CloseCodeInfo, 13> kCloseCodes = {{
    {1000, "NORMAL", false},
    {1001, "GOING_AWAY", true},
    {1002, "PROTOCOL_ERROR", false},
    {1003, "UNSUPPORTED_DATA", false},
    {1007, "INVALID_PAYLOAD", false},
    {1008, "POLICY_VIOLATION", false},
    {1009, "MESSAGE_TOO_BIG", false},
    {1011, "INTERNAL_ERROR", true},
    {1012, "SERVICE_RESTART", true},
    {1013, "TRY_AGAIN_LATER", true},
    {4401, "AUTH_FAILED", false},
    {4403, "FORBIDDEN", false},
    {4429, "RATE_LIMITED", true},
}};

// Error codes carried in error messages (p.code).
inline constexpr std::string_view kErrorAuthRequired = "AUTH_REQUIRED";
inline constexpr std::string_view kErrorAuthFailed = "AUTH_FAILED";
inline constexpr std::string_view kErrorForbidden = "FORBIDDEN";
inline constexpr std::string_view kErrorMessageTooLarge = "MESSAGE_TOO_LARGE";
inline constexpr std::string_view kErrorInvalidMessage = "INVALID_MESSAGE";
inline constexpr std::string_view kErrorInvalidSubscription = "INVALID_SUBSCRIPTION";
inline constexpr std::string_view kErrorInvalidAction = "INVALID_ACTION";
inline constexpr std::string_view kErrorSubscriptionFailed = "SUBSCRIPTION_FAILED";
inline constexpr std::string_view kErrorRateLimitExceeded = "RATE_LIMIT_EXCEEDED";
inline constexpr std::string_view kErrorEncryptionFailed = "ENCRYPTION_FAILED";
inline constexpr std::string_view kErrorServerError = "SERVER_ERROR";

// Priority levels.
inline constexpr int kPriorityCritical = 10;
inline constexpr int kPriorityHigh = 8;
inline constexpr int kPriorityNormal = 5;
inline constexpr int kPriorityLow = 3;
inline constexpr int kPriorityBackground = 1;

// Defaults (each is documented where it is configured).
inline constexpr int64_t kDefaultPort = 5006;
inline constexpr int64_t kDefaultMaxConnections = 1000;
inline constexpr int64_t kDefaultMaxMessageSize = 1048576;
inline constexpr int64_t kDefaultCompressionThreshold = 1024;
inline constexpr int64_t kDefaultCompressionLevel = 1;
inline constexpr int64_t kDefaultHeartbeatIntervalMs = 15000;
inline constexpr int64_t kDefaultIdleTimeoutMs = 90000;
inline constexpr int64_t kDefaultMaxInboundQueueSize = 131072;
inline constexpr std::string_view kDefaultJwtCookieName = "access_token";
inline constexpr std::string_view kDefaultJwtQueryParam = "token";
inline constexpr int64_t kDefaultJwtNbfLeewayS = 300;
inline constexpr std::string_view kDefaultRedisChannelPrefix = "wse:";

}  // namespace wse::spec
