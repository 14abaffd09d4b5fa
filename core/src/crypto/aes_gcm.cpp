#include "wse/crypto/aes_gcm.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include "wse/crypto/hash.hpp"
#include "wse/util/errors.hpp"

namespace wse::crypto {

namespace {

const EVP_CIPHER* cipher() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (c == nullptr) throw OperationFailed("OpenSSL: AES-256-GCM is not available");
  return c;
}

// A per-thread context that remembers the last key: re-keying (the AES key
// schedule) is skipped when consecutive calls use the same key, the common case.
struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string key;
  bool init(std::string_view k, const unsigned char* iv, bool encrypt) {
    const bool same = key.size() == k.size() && CRYPTO_memcmp(key.data(), k.data(), k.size()) == 0;
    const unsigned char* kp = same ? nullptr : reinterpret_cast<const unsigned char*>(k.data());
    const int ok = encrypt ? EVP_EncryptInit_ex2(ctx, same ? nullptr : cipher(), kp, iv, nullptr)
                           : EVP_DecryptInit_ex2(ctx, same ? nullptr : cipher(), kp, iv, nullptr);
    if (ok != 1) {
      key.clear();
      return false;
    }
    key.assign(k);
    return true;
  }
  CipherCtx() {
    if (ctx == nullptr) throw std::bad_alloc();
  }
  ~CipherCtx() {
    OPENSSL_cleanse(key.data(), key.size());
    EVP_CIPHER_CTX_free(ctx);
  }
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// OpenSSL's update calls take an int length; larger inputs are refused, not truncated.
constexpr std::size_t kMaxInput = static_cast<std::size_t>(INT_MAX) - 64;

void check_size(std::string_view data) {
  if (data.size() > kMaxInput) throw LimitExceeded("AES-GCM input over 2 GiB");
}

void check_key(std::string_view key) {
  if (key.size() != kAesKeySize)
    throw InvalidArgument("AES-GCM-256 key must be 32 bytes, got " + std::to_string(key.size()));
}

}  // namespace

std::string aes_gcm_encrypt(std::string_view key, std::string_view plaintext) {
  check_key(key);
  check_size(plaintext);
  thread_local CipherCtx c;  // encryption contexts
  std::string out(kGcmNonceSize + plaintext.size() + kGcmTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  random_bytes(o, kGcmNonceSize);
  int n = 0;
  if (!c.init(key, o, true) ||
      EVP_EncryptUpdate(c.ctx, o + kGcmNonceSize, &n, bytes(plaintext), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(c.ctx, o + kGcmNonceSize + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          o + kGcmNonceSize + plaintext.size()) != 1)
    throw OperationFailed("AES-GCM encryption failed");
  return out;
}

std::string aes_gcm_decrypt(std::string_view key, std::string_view blob) {
  if (blob.size() < kGcmNonceSize + kGcmTagSize)
    throw InvalidArgument("Encrypted data too short (min 28 bytes: 12 IV + 16 tag), got " +
                          std::to_string(blob.size()));
  check_key(key);
  check_size(blob);
  thread_local CipherCtx c;  // decryption contexts (separate from encryption)
  const std::size_t n_ct = blob.size() - kGcmNonceSize - kGcmTagSize;
  std::string out(n_ct, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const unsigned char* b = bytes(blob);
  int n = 0;
  unsigned char tag[kGcmTagSize];
  std::copy(b + kGcmNonceSize + n_ct, b + blob.size(), tag);
  const bool ok = c.init(key, b, false) &&
                  EVP_DecryptUpdate(c.ctx, o, &n, b + kGcmNonceSize, static_cast<int>(n_ct)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) == 1 &&
                  EVP_DecryptFinal_ex(c.ctx, o + n, &n) == 1;
  if (!ok) throw OperationFailed("Decrypt failed: authentication tag mismatch (tampered data or wrong key)");
  return out;
}

}  // namespace wse::crypto
