#pragma once
// End-to-end encryption state of one connection (docs/PROTOCOL.md 6.3).
//
// Life: offer() when the client asked with ?encryption=true (the server's
// ephemeral P-256 key pair; the public key goes into server_ready), accept() when
// client_hello brings the client's public key (derives the AES-256 key with
// HKDF-SHA256, salt "wse-encryption", info "aes-gcm-key"), activate() right after
// server_hello is queued. From then on seal() turns every outbound data frame
// into an `E:` binary frame and open() decrypts inbound `E:` bodies.
//
// Thread-safety: owned by the connection's shard and used only on its thread.
// Cost: an offer is one key generation (~50 us); each sealed frame is one
// AES-GCM pass and one allocation (shared fan-out frames are re-framed per
// encrypted subscriber, never for plaintext ones).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wse/transport/shared_frame.hpp"

namespace wse::transport {

class CryptoSession {
 public:
  // Generates the server's key pair. Throws OperationFailed if OpenSSL cannot.
  static std::unique_ptr<CryptoSession> offer();
  ~CryptoSession();
  CryptoSession(const CryptoSession&) = delete;
  CryptoSession& operator=(const CryptoSession&) = delete;

  // Standard base64 (with padding) of the 65-byte uncompressed SEC1 public key.
  const std::string& public_key_base64() const noexcept { return public_b64_; }

  // Derives the AES key from the client's base64 SEC1 public key. Returns false
  // with a reason for a key that does not decode or is not on the curve; the
  // server's private key is erased either way (one exchange per connection).
  bool accept(std::string_view client_public_key_b64, std::string* why);
  bool keyed() const noexcept { return !aes_key_.empty(); }
  // Outbound frames are sealed from now on. Requires keyed().
  void activate() noexcept { active_ = keyed(); }
  bool active() const noexcept { return active_; }

  // For a text or binary data frame: a binary frame `E:` + nonce(12) || ciphertext
  // || tag(16) whose plaintext is the original payload. A buffer of several data
  // frames (a publish run, publish_many(), a send_many() run) becomes as many
  // sealed frames, in order. Control frames and raw bytes are returned unchanged.
  // An empty FrameRef if encryption failed (the caller must drop the frame rather
  // than send plaintext).
  FrameRef seal(const FrameRef& frame) const noexcept;

  // Plaintext of an `E:` body (the bytes after the marker); nullopt with a reason
  // when the blob is short, tampered with, or no key was agreed.
  std::optional<std::string> open(std::string_view blob, std::string* why) const;

 private:
  CryptoSession() = default;
  std::string private_key_;
  std::string public_b64_;
  std::string aes_key_;
  bool active_ = false;
};

}  // namespace wse::transport
