#pragma once
// The envelope layer: category prefixes, inbound classification and the few
// messages the server composes itself. Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wse::protocol {

// "WSE", "S" or "U" for an event type (docs/PROTOCOL.md 3.1).
std::string_view category_for_type(std::string_view type) noexcept;

// The JSON body of a text message: strips "WSE{" -> "{", "S{"/"U{" -> "{", keeps
// "{...". nullopt if the text is not a (prefixed) JSON object.
std::optional<std::string_view> strip_category(std::string_view text) noexcept;

// Legacy text pings "PING:<ms>" / "WSE:PING:<ms>" (case-insensitive): the ms part.
std::optional<std::string_view> legacy_ping(std::string_view text) noexcept;

// What the server needs to know about an inbound JSON message to act on it natively.
struct InboundInfo {
  bool is_object = false;
  std::string type;                       // "t", else "type"
  std::optional<int64_t> ping_timestamp;  // p.timestamp when it is an integer
  // subscription_update / subscription
  std::string action;
  std::vector<std::string> topics;
  bool topics_valid = true;  // p.topics was a list of strings
  // client_hello: p.encryption_public_key (base64 SEC1), empty when absent
  std::string encryption_public_key;
};
// Parses `json` (one object) with simdjson. Never throws; is_object=false on bad JSON.
InboundInfo inspect_inbound(std::string_view json);
// False when `json` certainly is not a message the server answers itself (ping,
// PING, pong, PONG, client_hello, subscription_update, subscription): none of
// those names appears as a quoted string and there is no escape that could
// spell one. Such a message goes to the application without a parse here (the
// binding parses it once, into a dict). A cheap scan of the quotes; pure.
bool may_be_server_handled(std::string_view json) noexcept;
// Whether `json` has the outline of an object ('{' ... '}' around optional
// whitespace); a full parse decides later whether it really is one.
bool looks_like_object(std::string_view json) noexcept;

// Composition of server messages (JSON text with the category prefix).
struct ServerReadyInfo {
  std::string_view connection_id;
  std::string_view user_id;  // empty -> null
  int64_t now_ms = 0;
  int64_t heartbeat_interval_ms = 0;
  int64_t idle_timeout_ms = 0;
  uint64_t max_message_size = 0;
  bool msgpack = false;
  bool compression = true;
  // Base64 public key of the connection's encryption offer; empty = no offer.
  std::string_view encryption_public_key;
};
std::string server_ready_message(const ServerReadyInfo& info);
std::string server_hello_message(std::string_view connection_id, uint64_t seq, int64_t now_ms,
                                 uint64_t max_message_size, double rate_capacity, double rate_refill,
                                 int64_t heartbeat_interval_ms, bool msgpack, bool compression,
                                 bool encryption = false);
std::string pong_message(int64_t client_timestamp, int64_t server_ms);
std::string error_message(std::string_view code, std::string_view message, bool recoverable);
std::string rate_limit_warning_message(uint64_t seq, int64_t now_ms, double capacity, double refill,
                                       double retry_after_s, uint64_t dropped);
struct SubscriptionAck {
  std::string_view action;
  std::vector<std::string> success_topics;
  std::vector<std::string> failed_topics;
  std::vector<std::string> active;
};
std::string subscription_ack_message(const SubscriptionAck& ack, uint64_t seq, int64_t now_ms);

}  // namespace wse::protocol
