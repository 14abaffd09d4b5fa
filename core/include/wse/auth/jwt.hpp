#pragma once
// HS256 JSON Web Tokens (RFC 7519), the only algorithm WSE accepts.
//
// Validation, in order: three base64url segments without padding; header
// alg == "HS256"; signature (HMAC-SHA256, constant-time compare); payload is a
// JSON object; `exp` present, numeric and in the future; `nbf`, when present, not
// later than now + nbf_leeway_s; `iss` equal to the configured issuer and `aud`
// equal to (or, as an array, containing) the configured audience, each only when
// configured. Pure and thread-safe: keyed MAC states are cached per thread.
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wse::auth {

struct JwtOptions {
  std::string secret;
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
  std::int64_t nbf_leeway_s = 300;  // clock skew tolerated for `nbf`
};

struct JwtClaims {
  std::string payload_json;  // the decoded payload, as sent
  std::string subject;       // "sub" (string), else "user_id" (string or integer), else empty
};

// nullopt on any failure; `why` (if given) gets a short reason for logs and
// error frames, e.g. "Token expired".
std::optional<JwtClaims> jwt_decode_hs256(std::string_view token, const JwtOptions& options,
                                          std::int64_t now_unix_s, std::string* why = nullptr);

// Same checks; on success calls `on_payload` with the parsed payload (valid only
// during the call) instead of copying it, and returns true. Used by the Python
// binding to build the claims dict without parsing twice.
bool jwt_verify_hs256(std::string_view token, const JwtOptions& options, std::int64_t now_unix_s,
                      std::string* why, const std::function<void(simdjson::dom::element)>& on_payload);

// Signs an already-serialized JSON payload: header {"alg":"HS256","typ":"JWT"}.
std::string jwt_encode_hs256(std::string_view payload_json, std::string_view secret);

}  // namespace wse::auth
