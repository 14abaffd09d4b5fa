#include "wse/crypto/ecdh.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include <memory>

#include "wse/util/errors.hpp"

namespace wse::crypto {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Ctx = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

constexpr char kGroup[] = "P-256";

Pkey from_params(OSSL_PARAM* params, int selection) {
  Ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) != 1)
    return nullptr;
  return Pkey(raw);
}

Pkey public_key(std::string_view sec1) {
  if (sec1.size() != 65 && sec1.size() != 33) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size());
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Pkey key = from_params(params.get(), EVP_PKEY_PUBLIC_KEY);
  if (!key) return nullptr;
  // fromdata does not prove the point is on the curve; the quick check does (P-256
  // has cofactor 1, so on-curve is enough and the costly order check is skipped).
  Ctx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) return nullptr;
  return key;
}

Pkey private_key(std::string_view scalar) {
  if (scalar.size() != 32) return nullptr;
  std::unique_ptr<BIGNUM, BnFree> bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(scalar.data()), 32, nullptr));
  // A valid scalar is 0 < d < n (the group order).
  static const std::unique_ptr<BIGNUM, BnFree> order([] {
    BIGNUM* n = nullptr;
    BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    return n;
  }());
  if (!bn || BN_is_zero(bn.get()) || BN_cmp(bn.get(), order.get()) >= 0) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn.get());
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  return from_params(params.get(), EVP_PKEY_KEYPAIR);
}

}  // namespace

std::pair<std::string, std::string> ecdh_generate_keypair() {
  EVP_PKEY* raw = EVP_EC_gen(kGroup);
  if (raw == nullptr) throw OperationFailed("ECDH key generation failed");
  Pkey key(raw);
  std::string pub(65, '\0');
  std::size_t pub_len = 0;
  BIGNUM* priv_bn = nullptr;
  if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                      reinterpret_cast<unsigned char*>(pub.data()), pub.size(),
                                      &pub_len) != 1 ||
      pub_len != 65 || EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv_bn) != 1)
    throw OperationFailed("ECDH key export failed");
  std::unique_ptr<BIGNUM, BnFree> priv_owner(priv_bn);
  std::string priv(32, '\0');
  if (BN_bn2binpad(priv_bn, reinterpret_cast<unsigned char*>(priv.data()), 32) != 32)
    throw OperationFailed("ECDH key export failed");
  return {std::move(priv), std::move(pub)};
}

std::string ecdh_derive_shared_secret(std::string_view private_key_bytes, std::string_view peer_public_key) {
  Pkey mine = private_key(private_key_bytes);
  if (!mine)
    throw InvalidArgument("Invalid private key: expected a 32-byte P-256 scalar, got " +
                          std::to_string(private_key_bytes.size()) + " bytes");
  Pkey peer = public_key(peer_public_key);
  if (!peer)
    throw InvalidArgument(
        "Invalid peer public key: expected a SEC1 P-256 point (65 bytes uncompressed or 33 "
        "compressed) on the curve, got " +
        std::to_string(peer_public_key.size()) + " bytes");
  Ctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine.get(), nullptr));
  std::string shared(32, '\0');
  std::size_t len = shared.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(shared.data()), &len) != 1 || len != 32)
    throw OperationFailed("ECDH derivation failed");
  return hkdf_sha256(shared, "wse-encryption", "aes-gcm-key", 32);
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length) {
  Ctx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string out(length, '\0');
  std::size_t len = length;
  auto u = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), u(salt), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), u(ikm), static_cast<int>(ikm.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), u(info), static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != length)
    throw OperationFailed("HKDF-SHA256 failed");
  return out;
}

}  // namespace wse::crypto
