// The keyed MAC keeps SHA256_CTX states and copies them by value: with OpenSSL 3's
// EVP interface a context copy allocates, which doubles the cost of a JWT check.
// The SHA256_* functions are deprecated but supported for the 3.x series.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "wse/crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "wse/util/errors.hpp"

namespace wse::crypto {

namespace {

const EVP_MD* md_sha256() {
  // Fetched once: implicit fetches (EVP_sha256()) cost a lookup on every init.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw OperationFailed("OpenSSL: SHA256 is not available");
  return md;
}

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  MdCtx() {
    if (ctx == nullptr) throw std::bad_alloc();
  }
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
  MdCtx(const MdCtx&) = delete;
  MdCtx& operator=(const MdCtx&) = delete;
};

void check(int ok, const char* what) {
  if (ok != 1) throw OperationFailed(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace

Digest sha256(std::string_view data) {
  Digest out{};
  unsigned int n = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &n, md_sha256(), nullptr), "SHA-256");
  return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0F];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  const Digest d = sha256(data);
  return to_hex(d.data(), d.size());
}

struct HmacSha256::State {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

HmacSha256::HmacSha256(std::string_view key) : key_(key), state_(std::make_unique<State>()) {
  // RFC 2104: keys longer than the block are hashed first; then padded to 64 bytes.
  unsigned char block[64] = {};
  if (key.size() > sizeof block) {
    const Digest d = sha256(key);
    std::memcpy(block, d.data(), d.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char ipad[64], opad[64];
  for (std::size_t i = 0; i < 64; ++i) {
    ipad[i] = static_cast<unsigned char>(block[i] ^ 0x36);
    opad[i] = static_cast<unsigned char>(block[i] ^ 0x5c);
  }
  SHA256_Init(&state_->inner);
  SHA256_Update(&state_->inner, ipad, sizeof ipad);
  SHA256_Init(&state_->outer);
  SHA256_Update(&state_->outer, opad, sizeof opad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
}

HmacSha256::~HmacSha256() {
  OPENSSL_cleanse(key_.data(), key_.size());
  OPENSSL_cleanse(state_.get(), sizeof(State));
}

Digest HmacSha256::sign(std::string_view data) const { return sign2(data, {}); }

Digest HmacSha256::sign2(std::string_view a, std::string_view b) const {
  Digest inner_hash{}, out{};
  SHA256_CTX ctx = state_->inner;
  SHA256_Update(&ctx, a.data(), a.size());
  if (!b.empty()) SHA256_Update(&ctx, b.data(), b.size());
  SHA256_Final(inner_hash.data(), &ctx);
  ctx = state_->outer;
  SHA256_Update(&ctx, inner_hash.data(), inner_hash.size());
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

Digest hmac_sha256(std::string_view key, std::string_view data) { return HmacSha256(key).sign(data); }

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(unsigned char* out, std::size_t size) {
  // The kernel CSPRNG through getrandom(2): a third of the cost of OpenSSL 3.0's
  // RAND_bytes for nonce-sized requests (whose DRBG dispatch costs more than
  // encrypting 1 KiB), and fork-safe by construction, unlike any buffering of
  // random bytes in user space. RAND_bytes remains the fallback.
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = getrandom(out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      check(RAND_bytes(out + got, static_cast<int>(size - got)), "RAND_bytes");
      return;
    }
  }
}

}  // namespace wse::crypto
