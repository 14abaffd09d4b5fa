#pragma once
// The HTTP side of a connection before it becomes a WebSocket: parsing the
// request head (with the trusted http-parser library), deciding what it asks
// for, and the responses we send. Pure functions of bytes; thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wse::protocol {

// Largest request head we accept; beyond it the answer is 431.
inline constexpr std::size_t kMaxRequestHead = 8 * 1024;

struct HttpRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', undecoded
  std::string host, upgrade, connection, ws_key, ws_version, cookie, authorization, origin;
  bool upgrade_requested = false;  // Upgrade: websocket and Connection contains "upgrade"
};

// Outcome of parsing a complete head ("...\r\n\r\n").
struct ParsedHead {
  std::optional<HttpRequest> request;  // set when the head parsed
  int error_status = 0;                // 400 on malformed input
  std::string error;                   // why, for logs and the response body
};

// Offset just past "\r\n\r\n" if `data` holds a complete head, else 0.
std::size_t find_head_end(std::string_view data) noexcept;
ParsedHead parse_request_head(std::string_view head);

// Validates a WebSocket upgrade (RFC 6455 4.2.1). Returns 0 when acceptable,
// else the HTTP status to answer with (400, 405, 426) and sets `why`.
int check_upgrade(const HttpRequest& request, std::string* why);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept_key(std::string_view client_key);

// "HTTP/1.1 101 Switching Protocols" with the accept key.
std::string switching_protocols_response(std::string_view client_key);
// A complete non-upgrade response with Connection: close.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers = {});
std::string_view http_reason(int status) noexcept;

// Value of query parameter `name`, percent-decoded ('+' as space); nullopt if absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// True if the query has name=value (case-sensitive name, case-insensitive value).
bool query_flag(std::string_view query, std::string_view name, std::string_view value);
// First cookie `name` whose value is non-empty and not "undefined"/"null".
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// Token of "Authorization: Bearer <token>" (scheme case-insensitive).
std::optional<std::string> bearer_token(std::string_view authorization);

}  // namespace wse::protocol
