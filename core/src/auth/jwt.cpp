#include "wse/auth/jwt.hpp"

#include <simdjson.h>

#include <cmath>
#include <list>
#include <memory>

#include "wse/crypto/hash.hpp"
#include "wse/util/base64.hpp"

namespace wse::auth {

namespace {

// Per-thread cache of keyed MAC states: servers verify many tokens with one
// secret, so the key schedule is paid once per thread, not per token.
const crypto::HmacSha256& mac_for(std::string_view secret) {
  thread_local std::list<std::unique_ptr<crypto::HmacSha256>> cache;  // most recent first, at most 4
  for (auto it = cache.begin(); it != cache.end(); ++it) {
    if ((*it)->key() == secret) {
      if (it != cache.begin()) cache.splice(cache.begin(), cache, it);
      return *cache.front();
    }
  }
  cache.push_front(std::make_unique<crypto::HmacSha256>(secret));
  if (cache.size() > 4) cache.pop_back();
  return *cache.front();
}

bool fail(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return false;
}

// Reads a NumericDate (integer or float seconds).
std::optional<double> numeric(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(int64_t(e));
  if (e.is_uint64()) return static_cast<double>(uint64_t(e));
  if (e.is_double()) {
    const double d = double(e);
    if (std::isfinite(d)) return d;
  }
  return std::nullopt;
}

}  // namespace

std::optional<JwtClaims> jwt_decode_hs256(std::string_view token, const JwtOptions& options, std::int64_t now,
                                          std::string* why) {
  std::optional<JwtClaims> claims;
  jwt_verify_hs256(token, options, now, why, [&](simdjson::dom::element p) {
    JwtClaims c;
    c.payload_json = simdjson::minify(p);
    std::string_view sub;
    simdjson::dom::element value;
    if (p["sub"].get(sub) == simdjson::SUCCESS) {
      c.subject = sub;
    } else if (p["user_id"].get(value) == simdjson::SUCCESS) {
      if (value.is_string()) {
        c.subject = std::string_view(value);
      } else if (value.is_int64()) {
        c.subject = std::to_string(int64_t(value));
      }
    }
    claims = std::move(c);
  });
  return claims;
}

bool jwt_verify_hs256(std::string_view token, const JwtOptions& options, std::int64_t now, std::string* why,
                      const std::function<void(simdjson::dom::element)>& on_payload) {
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    fail(why, "Malformed JWT token");
    return false;
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);

  thread_local simdjson::dom::parser parser;
  // Nearly every token of a deployment carries the same header segment: remember
  // the last one that passed, per thread, and skip decoding it again.
  thread_local std::string good_header;
  if (header_b64 != good_header) {
    const auto header = util::base64url_decode(header_b64);
    if (!header) {
      fail(why, "Base64 decode error: segments must be unpadded base64url");
      return false;
    }
    simdjson::dom::element h;
    if (parser.parse(*header).get(h) != simdjson::SUCCESS || !h.is_object()) {
      fail(why, "Invalid JWT header");
      return false;
    }
    std::string_view alg;
    if (h["alg"].get(alg) != simdjson::SUCCESS || alg != "HS256") {
      fail(why, "Unsupported algorithm (only HS256)");
      return false;
    }
    good_header.assign(header_b64);
  }
  const auto payload = util::base64url_decode(payload_b64);
  const auto sig = util::base64url_decode(sig_b64);
  if (!payload || !sig) {
    fail(why, "Base64 decode error: segments must be unpadded base64url");
    return false;
  }
  // Signature before looking at the claims: nothing unauthenticated is trusted.
  const crypto::Digest expected = mac_for(options.secret).sign2(token.substr(0, dot2), {});
  if (!crypto::equal_constant_time(
          *sig, std::string_view(reinterpret_cast<const char*>(expected.data()), expected.size()))) {
    fail(why, "Invalid JWT signature");
    return false;
  }
  simdjson::dom::element p;
  if (parser.parse(*payload).get(p) != simdjson::SUCCESS || !p.is_object()) {
    fail(why, "Invalid JWT payload");
    return false;
  }
  simdjson::dom::element value;
  if (p["exp"].get(value) != simdjson::SUCCESS) {
    fail(why, "Token missing exp claim");
    return false;
  }
  const auto exp = numeric(value);
  if (!exp) {
    fail(why, "Invalid exp claim");
    return false;
  }
  if (static_cast<double>(now) >= *exp) {
    fail(why, "Token expired");
    return false;
  }
  if (p["nbf"].get(value) == simdjson::SUCCESS) {
    const auto nbf = numeric(value);
    if (!nbf) {
      fail(why, "Invalid nbf claim");
      return false;
    }
    if (*nbf > static_cast<double>(now + options.nbf_leeway_s)) {
      fail(why, "Token not yet valid (nbf)");
      return false;
    }
  }
  if (options.issuer) {
    std::string_view iss;
    if (p["iss"].get(iss) != simdjson::SUCCESS || iss != *options.issuer) {
      fail(why, "Invalid issuer");
      return false;
    }
  }
  if (options.audience) {
    bool ok = false;
    std::string_view aud;
    simdjson::dom::array list;
    if (p["aud"].get(aud) == simdjson::SUCCESS) {
      ok = aud == *options.audience;
    } else if (p["aud"].get(list) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : list) {
        std::string_view a;
        if (item.get(a) == simdjson::SUCCESS && a == *options.audience) ok = true;
      }
    }
    if (!ok) {
      fail(why, "Invalid audience");
      return false;
    }
  }
  on_payload(p);
  return true;
}

std::string jwt_encode_hs256(std::string_view payload_json, std::string_view secret) {
  static const std::string kHeader = util::base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string token = kHeader;
  token.push_back('.');
  token.append(util::base64url_encode(payload_json));
  const crypto::Digest sig = mac_for(secret).sign(token);
  token.push_back('.');
  token.append(
      util::base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size())));
  return token;
}

}  // namespace wse::auth
