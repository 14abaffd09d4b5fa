#include "wse/protocol/http_request.hpp"

#include <http_parser.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "wse/util/base64.hpp"

namespace wse::protocol {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool icontains_token(std::string_view list, std::string_view token) {
  // Comma-separated header list, e.g. "keep-alive, Upgrade".
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    start = comma + 1;
  }
  return false;
}

struct ParseState {
  HttpRequest request;
  std::string url;
  std::string field;
  std::string value;
  bool in_value = false;
  bool done = false;

  void commit_header() {
    if (field.empty()) return;
    std::string* target = nullptr;
    if (iequals(field, "host"))
      target = &request.host;
    else if (iequals(field, "upgrade"))
      target = &request.upgrade;
    else if (iequals(field, "connection"))
      target = &request.connection;
    else if (iequals(field, "sec-websocket-key"))
      target = &request.ws_key;
    else if (iequals(field, "sec-websocket-version"))
      target = &request.ws_version;
    else if (iequals(field, "cookie"))
      target = &request.cookie;
    else if (iequals(field, "authorization"))
      target = &request.authorization;
    else if (iequals(field, "origin"))
      target = &request.origin;
    if (target != nullptr) {
      // Repeated headers join with ", " (cookies with "; ").
      if (!target->empty()) target->append(target == &request.cookie ? "; " : ", ");
      target->append(value);
    }
    field.clear();
    value.clear();
  }
};

ParseState* state_of(http_parser* p) { return static_cast<ParseState*>(p->data); }

int on_url(http_parser* p, const char* at, std::size_t n) {
  state_of(p)->url.append(at, n);
  return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t n) {
  ParseState* s = state_of(p);
  if (s->in_value) {
    s->commit_header();
    s->in_value = false;
  }
  s->field.append(at, n);
  return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t n) {
  ParseState* s = state_of(p);
  s->in_value = true;
  s->value.append(at, n);
  return 0;
}
int on_headers_complete(http_parser* p) {
  ParseState* s = state_of(p);
  s->commit_header();
  s->done = true;
  return 1;  // no body expected: stop here (also for upgrade requests)
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        out.push_back(c);
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::size_t find_head_end(std::string_view data) noexcept {
  const std::size_t at = data.find("\r\n\r\n");
  return at == std::string_view::npos ? 0 : at + 4;
}

ParsedHead parse_request_head(std::string_view head) {
  ParsedHead result;
  ParseState state;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &state;
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = on_url;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  http_parser_execute(&parser, &settings, head.data(), head.size());
  const auto err = static_cast<http_errno>(parser.http_errno);
  if (!state.done || (err != HPE_OK && err != HPE_CB_headers_complete)) {
    result.error_status = 400;
    result.error = err != HPE_OK ? http_errno_description(err) : "incomplete request head";
    return result;
  }
  state.request.method = http_method_str(static_cast<http_method>(parser.method));
  const std::size_t q = state.url.find('?');
  state.request.path = state.url.substr(0, q);
  if (q != std::string::npos) state.request.query = state.url.substr(q + 1);
  state.request.upgrade_requested =
      iequals(state.request.upgrade, "websocket") && icontains_token(state.request.connection, "upgrade");
  result.request = std::move(state.request);
  return result;
}

int check_upgrade(const HttpRequest& r, std::string* why) {
  auto reject = [&](int status, const char* reason) {
    if (why != nullptr) *why = reason;
    return status;
  };
  if (r.method != "GET") return reject(405, "WebSocket upgrade must use GET");
  if (!r.upgrade_requested) return reject(400, "missing Upgrade: websocket / Connection: Upgrade");
  if (r.ws_version != "13") return reject(426, "unsupported Sec-WebSocket-Version (need 13)");
  const auto key = util::base64_decode(r.ws_key);
  if (!key || key->size() != 16) return reject(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  return 0;
}

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string material;
  material.reserve(client_key.size() + kGuid.size());
  material.append(client_key);
  material.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  return util::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string switching_protocols_response(std::string_view client_key) {
  std::string out;
  out.reserve(160);
  out.append(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ");
  out.append(websocket_accept_key(client_key));
  out.append("\r\n\r\n");
  return out;
}

std::string_view http_reason(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers) {
  std::string out;
  out.reserve(128 + body.size());
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(http_reason(status));
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\nContent-Length: ");
  out.append(std::to_string(body.size()));
  out.append("\r\nConnection: close\r\nCache-Control: no-store\r\n");
  out.append(extra_headers);
  out.append("\r\n");
  out.append(body);
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (percent_decode(key) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    start = amp + 1;
  }
  return std::nullopt;
}

bool query_flag(std::string_view query, std::string_view name, std::string_view value) {
  const auto v = query_param(query, name);
  return v && iequals(*v, value);
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t semi = header.find(';', start);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view pair = header.substr(start, semi - start);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view v = pair.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!v.empty() && v != "undefined" && v != "null") return std::string(v);
    }
    start = semi + 1;
  }
  return std::nullopt;
}

std::optional<std::string> bearer_token(std::string_view authorization) {
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  if (authorization.size() < 7 || !iequals(authorization.substr(0, 6), "bearer") || authorization[6] != ' ')
    return std::nullopt;
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

}  // namespace wse::protocol
