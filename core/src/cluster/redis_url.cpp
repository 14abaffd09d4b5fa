#include "wse/cluster/redis_url.hpp"

#include <charconv>
#include <cmath>

#include "wse/util/errors.hpp"

namespace wse::cluster {

namespace {

[[noreturn]] void fail(std::string_view why) {
  throw InvalidArgument("invalid Redis URL: " + std::string(why) +
                        " (expected redis://[[user]:password@]host[:port][/db] or rediss://...)");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view in, const char* what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) fail(std::string("truncated %-escape in ") + what);
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) fail(std::string("bad %-escape in ") + what);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::uint32_t parse_uint(std::string_view text, std::uint32_t max, const char* what) {
  std::uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > max)
    fail(std::string(what) + " must be an integer between 0 and " + std::to_string(max) + ", got '" +
         std::string(text) + "'");
  return value;
}

bool parse_bool(std::string_view text, const char* what) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  fail(std::string(what) + " must be true or false, got '" + std::string(text) + "'");
}

void parse_query(std::string_view query, RedisUrl& url, bool& db_set) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) fail("query option '" + std::string(pair) + "' has no value");
    const std::string_view key = pair.substr(0, eq);
    const std::string value = percent_decode(pair.substr(eq + 1), "a query option");
    if (key == "db") {
      const std::uint32_t db = parse_uint(value, 1u << 20, "db");
      if (db_set && db != url.db) fail("the db in the path and in ?db= differ");
      url.db = db;
      db_set = true;
    } else if (key == "ssl_cert_reqs") {
      if (value == "required") {
        url.tls_verify = TlsVerify::Required;
      } else if (value == "optional") {
        url.tls_verify = TlsVerify::Optional;
      } else if (value == "none") {
        url.tls_verify = TlsVerify::None;
      } else {
        fail("ssl_cert_reqs must be required, optional or none");
      }
    } else if (key == "ssl_ca_certs") {
      url.tls_ca_file = value;
    } else if (key == "ssl_certfile") {
      url.tls_cert_file = value;
    } else if (key == "ssl_keyfile") {
      url.tls_key_file = value;
    } else if (key == "ssl_check_hostname") {
      url.tls_check_hostname = parse_bool(value, "ssl_check_hostname");
    } else if (key == "connect_timeout") {
      double seconds = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || !(seconds > 0) ||
          seconds > 3600)
        fail("connect_timeout must be a number of seconds in (0, 3600]");
      url.connect_timeout_s = seconds;
    } else {
      fail("unknown query option '" + std::string(key) +
           "' (known: db, ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_check_hostname, "
           "connect_timeout)");
    }
  }
}

}  // namespace

RedisUrl parse_redis_url(std::string_view text) {
  RedisUrl url;
  std::string_view rest;
  if (text.starts_with("redis://")) {
    rest = text.substr(8);
  } else if (text.starts_with("rediss://")) {
    url.tls = true;
    rest = text.substr(9);
  } else {
    const std::size_t colon = text.find("://");
    if (colon == std::string_view::npos) fail("missing scheme");
    fail("unsupported scheme '" + std::string(text.substr(0, colon)) + "'");
  }
  for (char c : rest)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) fail("control characters or spaces in the URL");

  std::string_view query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos)
    fail("fragments are not allowed");
  std::string_view path;
  // The authority ends at the first '/' after the last '@' (a password may contain '/').
  const std::size_t at = rest.rfind('@');
  const std::size_t slash = rest.find('/', at == std::string_view::npos ? 0 : at);
  if (slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view authority = rest;
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // redis://secret@host: a bare userinfo is the password (as redis-py reads it).
      url.password = percent_decode(userinfo, "the password");
    } else {
      url.username = percent_decode(userinfo.substr(0, colon), "the user name");
      url.password = percent_decode(userinfo.substr(colon + 1), "the password");
    }
    url.has_password = !url.password.empty();
    if (!url.has_password && !url.username.empty()) fail("a user name needs a password");
  }
  if (authority.empty()) fail("missing host");
  std::string_view port_text;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated [IPv6] host");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("unexpected text after the [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) fail("empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) fail("empty port");
    }
  }
  if (url.host.empty()) fail("missing host");
  for (char c : url.host)
    if (c == '@' || c == '/' || c == '[' || c == ']') fail("bad character in host '" + url.host + "'");
  if (!port_text.empty()) {
    const std::uint32_t port = parse_uint(port_text, 65535, "port");
    if (port == 0) fail("port must be between 1 and 65535");
    url.port = static_cast<std::uint16_t>(port);
  }
  bool db_set = false;
  if (!path.empty()) {
    url.db = parse_uint(path, 1u << 20, "db (the URL path)");
    db_set = true;
  }
  parse_query(query, url, db_set);
  if (!url.tls && (url.tls_verify != TlsVerify::Required || !url.tls_ca_file.empty() ||
                   !url.tls_cert_file.empty() || !url.tls_key_file.empty()))
    fail("ssl_* options need the rediss:// scheme");
  if (url.tls_cert_file.empty() != url.tls_key_file.empty()) fail("ssl_certfile and ssl_keyfile go together");
  return url;
}

std::string RedisUrl::endpoint() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

std::string RedisUrl::redacted() const {
  std::string out(tls ? "rediss://" : "redis://");
  if (!username.empty() || has_password) {
    out.append(username);
    if (has_password) out.append(":***");
    out.push_back('@');
  }
  out.append(endpoint());
  if (db != 0) {
    out.push_back('/');
    out.append(std::to_string(db));
  }
  return out;
}

}  // namespace wse::cluster
