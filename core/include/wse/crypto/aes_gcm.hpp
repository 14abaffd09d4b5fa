#pragma once
// AES-256-GCM with the wire layout of docs/PROTOCOL.md 6.3: a random 12-byte
// nonce, the ciphertext, then the 16-byte tag; no associated data.
// Thread-safe (each thread keeps its own cipher context).
#include <string>
#include <string_view>

namespace wse::crypto {

inline constexpr std::size_t kAesKeySize = 32;
inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;

// Throws InvalidArgument if the key is not 32 bytes, LimitExceeded over 2 GiB.
std::string aes_gcm_encrypt(std::string_view key, std::string_view plaintext);
// Throws InvalidArgument for a short blob (< 28 bytes) or a bad key size, and
// OperationFailed when authentication fails (tampered, truncated or wrong key).
std::string aes_gcm_decrypt(std::string_view key, std::string_view blob);

}  // namespace wse::crypto
