// Crypto, JWT and zlib cores against the shared vectors (made with independent
// implementations: PyJWT, cryptography, Python's zlib).
#include <gtest/gtest.h>

#include "vectors.hpp"
#include "wse/auth/jwt.hpp"
#include "wse/compression/zlib.hpp"
#include "wse/crypto/aes_gcm.hpp"
#include "wse/crypto/ecdh.hpp"
#include "wse/crypto/hash.hpp"
#include "wse/util/errors.hpp"

namespace {

using wse::test::load_vectors;
using wse::test::unhex;

TEST(Jwt, SharedVectors) {
  simdjson::dom::parser p;
  auto doc = load_vectors(p, "jwt");
  wse::auth::JwtOptions base;
  base.secret = std::string(std::string_view(doc["secret"]));
  const std::int64_t now = 1'800'000'000;  // 2027: valid tokens expire in 2100
  int n = 0;
  for (simdjson::dom::element v : doc["vectors"]) {
    wse::auth::JwtOptions o = base;
    std::string_view s;
    if (v["issuer"].get(s) == simdjson::SUCCESS) o.issuer = std::string(s);
    if (v["audience"].get(s) == simdjson::SUCCESS) o.audience = std::string(s);
    std::string why;
    const auto claims = wse::auth::jwt_decode_hs256(std::string_view(v["token"]), o, now, &why);
    EXPECT_EQ(claims.has_value(), bool(v["valid"])) << std::string_view(v["name"]) << ": " << why;
    if (claims) {
      EXPECT_EQ(claims->subject, "user-1");
    }
    ++n;
  }
  EXPECT_GE(n, 15);
}

TEST(Jwt, EncodeRoundTripAndReasons) {
  wse::auth::JwtOptions o;
  o.secret = "k";
  const std::string token = wse::auth::jwt_encode_hs256(R"({"exp":2000,"sub":"u","nbf":1500})", "k");
  std::string why;
  EXPECT_FALSE(wse::auth::jwt_decode_hs256(token, o, 1000, &why));  // nbf more than 300 s ahead
  EXPECT_EQ(why, "Token not yet valid (nbf)");
  EXPECT_TRUE(wse::auth::jwt_decode_hs256(token, o, 1250, &why)) << why;  // within the skew
  EXPECT_FALSE(wse::auth::jwt_decode_hs256(token, o, 2000, &why));
  EXPECT_EQ(why, "Token expired");
  o.secret = "other";
  EXPECT_FALSE(wse::auth::jwt_decode_hs256(token, o, 1250, &why));
  EXPECT_EQ(why, "Invalid JWT signature");
}

TEST(AesGcm, SharedVectors) {
  simdjson::dom::parser p;
  for (simdjson::dom::element v : load_vectors(p, "aes_gcm")["vectors"]) {
    const std::string key = unhex(std::string_view(v["key"]));
    const std::string blob = unhex(std::string_view(v["blob"]));
    if (bool(v["valid"])) {
      EXPECT_EQ(wse::crypto::aes_gcm_decrypt(key, blob), unhex(std::string_view(v["plaintext"])));
    } else if (std::string_view(v["error"]) == "size") {
      EXPECT_THROW(wse::crypto::aes_gcm_decrypt(key, blob), wse::InvalidArgument);
    } else {
      EXPECT_THROW(wse::crypto::aes_gcm_decrypt(key, blob), wse::OperationFailed);
    }
  }
  const std::string key(32, 'k');
  EXPECT_EQ(wse::crypto::aes_gcm_decrypt(key, wse::crypto::aes_gcm_encrypt(key, "round trip")), "round trip");
}

TEST(Ecdh, SharedVectorsAndInvalidKeys) {
  simdjson::dom::parser p;
  auto doc = load_vectors(p, "ecdh");
  for (simdjson::dom::element v : doc["vectors"]) {
    EXPECT_EQ(wse::crypto::ecdh_derive_shared_secret(unhex(std::string_view(v["private_a"])),
                                                     unhex(std::string_view(v["public_b"]))),
              unhex(std::string_view(v["aes_key"])));
  }
  const auto [priv, pub] = wse::crypto::ecdh_generate_keypair();
  EXPECT_EQ(priv.size(), 32u);
  EXPECT_EQ(pub.size(), 65u);
  for (simdjson::dom::element bad : doc["invalid_public_keys"])
    EXPECT_THROW(wse::crypto::ecdh_derive_shared_secret(priv, unhex(std::string_view(bad))),
                 wse::InvalidArgument);
}

TEST(Hash, KnownAnswers) {
  EXPECT_EQ(wse::crypto::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  const auto mac = wse::crypto::hmac_sha256("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(wse::crypto::to_hex(mac.data(), mac.size()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Zlib, SharedVectorsAndBomb) {
  simdjson::dom::parser p;
  auto doc = load_vectors(p, "zlib");
  for (simdjson::dom::element v : doc["vectors"]) {
    const std::string plain = unhex(std::string_view(v["plaintext"]));
    EXPECT_EQ(wse::compression::zlib_decompress(unhex(std::string_view(v["compressed"])), 1 << 20), plain);
    EXPECT_EQ(wse::compression::zlib_decompress(
                  wse::compression::zlib_compress(plain, static_cast<int>(int64_t(v["level"]))), 1 << 20),
              plain);
  }
  for (simdjson::dom::element bad : doc["invalid"])
    EXPECT_THROW(wse::compression::zlib_decompress(unhex(std::string_view(bad)), 1 << 20),
                 wse::InvalidArgument);
  for (simdjson::dom::element b : doc["bombs"]) {
    const std::string z = unhex(std::string_view(b["compressed"]));
    const auto n = static_cast<std::size_t>(int64_t(b["inflated_size"]));
    EXPECT_THROW(wse::compression::zlib_decompress(z, n - 1), wse::LimitExceeded);
    EXPECT_THROW(wse::compression::zlib_decompress(z, 1024), wse::LimitExceeded);
    EXPECT_EQ(wse::compression::zlib_decompress(z, n).size(), n);
  }
  const std::string bomb = wse::compression::zlib_compress(std::string(8 << 20, '\0'), 9);
  EXPECT_THROW(wse::compression::zlib_decompress(bomb, 1 << 20), wse::LimitExceeded);
}

}  // namespace
