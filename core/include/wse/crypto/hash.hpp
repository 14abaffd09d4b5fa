#pragma once
// SHA-256 and HMAC-SHA256 on OpenSSL's EVP interface. Pure functions and a
// reusable keyed MAC; thread-safe (an HmacSha256 is immutable once built and may
// be shared between threads: sign() works on its own copy of the state).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wse::crypto {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data);
std::string to_hex(const unsigned char* data, std::size_t size);
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 with the key schedule computed once: the inner and outer hash
// states after the padded key are kept, so each MAC costs two short hashes.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  Digest sign(std::string_view data) const;
  // Same as sign() over the concatenation a || b (no copy).
  Digest sign2(std::string_view a, std::string_view b) const;
  const std::string& key() const noexcept { return key_; }

 private:
  struct State;
  std::string key_;
  std::unique_ptr<State> state_;
};

Digest hmac_sha256(std::string_view key, std::string_view data);

// Constant-time comparison of equal-length buffers (false if lengths differ).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

// Cryptographically secure random bytes (the kernel CSPRNG via getrandom, OpenSSL's
// DRBG if that fails). Thread-safe. Throws OperationFailed.
void random_bytes(unsigned char* out, std::size_t size);

}  // namespace wse::crypto
