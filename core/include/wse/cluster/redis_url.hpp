#pragma once
// Redis connection URLs: redis://[[user]:password@]host[:port][/db][?options]
// and rediss:// for TLS. Pure; thread-safe.
//
// Accepted query options (anything else is rejected, so a typo is not silently
// ignored):
//   db=N                  database number (same as the /N path; both must agree)
//   ssl_cert_reqs=required|optional|none   TLS peer verification (default required)
//   ssl_ca_certs=PATH     CA bundle (PEM) to verify the server; default: system store
//   ssl_certfile=PATH, ssl_keyfile=PATH    client certificate and key (mutual TLS)
//   ssl_check_hostname=true|false          verify the certificate names the host (default true)
//   connect_timeout=SECONDS                per attempt (default 5)
// User and password are percent-decoded. IPv6 hosts are written in brackets.
#include <cstdint>
#include <string>
#include <string_view>

namespace wse::cluster {

enum class TlsVerify : std::uint8_t { Required, Optional, None };

struct RedisUrl {
  bool tls = false;
  std::string host;
  std::uint16_t port = 6379;
  std::string username;  // empty = AUTH <password> (the "default" user)
  std::string password;  // empty = no AUTH
  bool has_password = false;
  std::uint32_t db = 0;
  TlsVerify tls_verify = TlsVerify::Required;
  bool tls_check_hostname = true;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  double connect_timeout_s = 5.0;

  // The URL with the password replaced by "***", for logs, errors and health.
  std::string redacted() const;
  // "host:port" (brackets around IPv6), for messages.
  std::string endpoint() const;
};

// Parses `url`. Throws wse::InvalidArgument with a message that names the bad
// part (never echoing the password).
RedisUrl parse_redis_url(std::string_view url);

}  // namespace wse::cluster
