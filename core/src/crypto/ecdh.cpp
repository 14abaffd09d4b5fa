// ECDH on P-256 with OpenSSL's EC_POINT layer and one shared, immutable EC_GROUP.
//
// Why not EVP_PKEY: importing the raw 32-byte scalar and 65-byte peer point through
// OpenSSL 3's provider layer (EVP_PKEY_fromdata) rebuilds the curve group for each
// key and EVP_PKEY_derive_set_peer re-validates the peer with a full scalar
// multiplication by the group order; together that cost about four times the ECDH
// multiplication itself, on every call of the seed's bytes-in/bytes-out API. The
// steps kept here are exactly those of OpenSSL's own ECDH (ecdh_simple_compute_key):
// decode and validate the peer point, multiply it by the private scalar
// (constant-time ladder), take the affine X coordinate.
#include "wse/crypto/ecdh.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include <memory>

#include "wse/util/errors.hpp"

namespace wse::crypto {

namespace {

struct BnFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Point = std::unique_ptr<EC_POINT, PointFree>;

// The P-256 group, built once. OpenSSL only reads a group during point
// arithmetic, so one instance serves every thread.
const EC_GROUP* p256() {
  static const EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  if (group == nullptr) throw OperationFailed("OpenSSL: P-256 is not available");
  return group;
}

// Scratch space for big-number arithmetic, one per thread (BN_CTX is not shared).
BN_CTX* bn_ctx() {
  struct Holder {
    BN_CTX* ctx = BN_CTX_secure_new();
    ~Holder() { BN_CTX_free(ctx); }
  };
  thread_local Holder h;
  if (h.ctx == nullptr) throw std::bad_alloc();
  return h.ctx;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The scalar d with 0 < d < n, or null.
Bn private_scalar(std::string_view scalar) {
  if (scalar.size() != 32) return nullptr;
  Bn d(BN_secure_new());
  if (!d || BN_bin2bn(bytes(scalar), 32, d.get()) == nullptr) return nullptr;
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(p256())) >= 0) return nullptr;
  return d;
}

// A SEC1 point on the curve (65 bytes 04||X||Y, or 33 bytes 02/03||X), or null.
// oct2point rejects coordinates that do not satisfy the curve equation; P-256 has
// cofactor 1, so every such point is in the prime-order group and no order check
// is needed. Hybrid encodings (06/07) are refused.
Point peer_point(std::string_view sec1) {
  const bool uncompressed = sec1.size() == 65 && sec1[0] == 0x04;
  const bool compressed = sec1.size() == 33 && (sec1[0] == 0x02 || sec1[0] == 0x03);
  if (!uncompressed && !compressed) return nullptr;
  Point q(EC_POINT_new(p256()));
  if (!q || EC_POINT_oct2point(p256(), q.get(), bytes(sec1), sec1.size(), bn_ctx()) != 1 ||
      EC_POINT_is_on_curve(p256(), q.get(), bn_ctx()) != 1 || EC_POINT_is_at_infinity(p256(), q.get()) == 1)
    return nullptr;
  return q;
}

const EVP_KDF* hkdf() {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);  // fetched once: a lookup per call otherwise
  if (kdf == nullptr) throw OperationFailed("OpenSSL: HKDF is not available");
  return kdf;
}

}  // namespace

std::pair<std::string, std::string> ecdh_generate_keypair() {
  const EC_GROUP* g = p256();
  Bn d(BN_secure_new());
  Point q(EC_POINT_new(g));
  if (!d || !q) throw std::bad_alloc();
  do {  // uniform in [1, n-1]
    if (BN_priv_rand_range(d.get(), EC_GROUP_get0_order(g)) != 1)
      throw OperationFailed("ECDH key generation failed (random)");
  } while (BN_is_zero(d.get()));
  std::string priv(32, '\0'), pub(65, '\0');
  if (EC_POINT_mul(g, q.get(), d.get(), nullptr, nullptr, bn_ctx()) != 1 ||
      EC_POINT_point2oct(g, q.get(), POINT_CONVERSION_UNCOMPRESSED,
                         reinterpret_cast<unsigned char*>(pub.data()), pub.size(), bn_ctx()) != 65 ||
      BN_bn2binpad(d.get(), reinterpret_cast<unsigned char*>(priv.data()), 32) != 32)
    throw OperationFailed("ECDH key generation failed");
  return {std::move(priv), std::move(pub)};
}

std::string ecdh_derive_shared_secret(std::string_view private_key_bytes, std::string_view peer_public_key) {
  Bn d = private_scalar(private_key_bytes);
  if (!d)
    throw InvalidArgument("Invalid private key: expected a 32-byte P-256 scalar in [1, n-1], got " +
                          std::to_string(private_key_bytes.size()) + " bytes");
  Point q = peer_point(peer_public_key);
  if (!q)
    throw InvalidArgument(
        "Invalid peer public key: expected a SEC1 P-256 point (65 bytes uncompressed or 33 "
        "compressed) on the curve, got " +
        std::to_string(peer_public_key.size()) + " bytes");
  const EC_GROUP* g = p256();
  Point shared_point(EC_POINT_new(g));
  Bn x(BN_secure_new());
  std::string shared(32, '\0');
  if (!shared_point || !x || EC_POINT_mul(g, shared_point.get(), nullptr, q.get(), d.get(), bn_ctx()) != 1 ||
      EC_POINT_is_at_infinity(g, shared_point.get()) == 1 ||
      EC_POINT_get_affine_coordinates(g, shared_point.get(), x.get(), nullptr, bn_ctx()) != 1 ||
      BN_bn2binpad(x.get(), reinterpret_cast<unsigned char*>(shared.data()), 32) != 32)
    throw OperationFailed("ECDH derivation failed");
  std::string key = hkdf_sha256(shared, "wse-encryption", "aes-gcm-key", 32);
  OPENSSL_cleanse(shared.data(), shared.size());
  return key;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length) {
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(const_cast<EVP_KDF*>(hkdf())),
                                                                &EVP_KDF_CTX_free);
  std::string out(length, '\0');
  auto octets = [](const char* key, std::string_view s) {
    return OSSL_PARAM_construct_octet_string(key, const_cast<char*>(s.data()), s.size());
  };
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      octets(OSSL_KDF_PARAM_KEY, ikm),
      octets(OSSL_KDF_PARAM_SALT, salt),
      octets(OSSL_KDF_PARAM_INFO, info),
      OSSL_PARAM_construct_end(),
  };
  if (!ctx || EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), length, params) != 1)
    throw OperationFailed("HKDF-SHA256 failed");
  return out;
}

}  // namespace wse::crypto
