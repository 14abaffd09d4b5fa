#pragma once
// ECDH on P-256 and the key derivation of docs/PROTOCOL.md 6.3:
// AES key = HKDF-SHA256(salt "wse-encryption", info "aes-gcm-key", ikm = the
// shared X coordinate, 32 bytes). Keys: private = 32-byte scalar, public = 65-byte
// uncompressed SEC1 (04 || X || Y). Thread-safe: the only shared state is the
// immutable P-256 group (built on first use); scratch space is per thread.
#include <string>
#include <string_view>
#include <utility>

namespace wse::crypto {

// (private 32 bytes, public 65 bytes).
std::pair<std::string, std::string> ecdh_generate_keypair();
// Throws InvalidArgument for a private key that is not a 32-byte scalar in [1, n-1]
// or a peer key that is not a 65-byte uncompressed or 33-byte compressed point on
// the curve.
std::string ecdh_derive_shared_secret(std::string_view private_key, std::string_view peer_public_key);
// HKDF-SHA256 (RFC 5869), `length` bytes.
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length);

}  // namespace wse::crypto
