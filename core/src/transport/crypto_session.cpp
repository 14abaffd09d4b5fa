#include "wse/transport/crypto_session.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <exception>

#include "wse/crypto/aes_gcm.hpp"
#include "wse/crypto/ecdh.hpp"
#include "wse/protocol/spec.hpp"
#include "wse/util/base64.hpp"

namespace wse::transport {

namespace {

void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// Opcode and payload of a frame built by make_frame (server frames are never
// masked). nullopt for raw bytes (HTTP responses), whose first byte is ASCII.
struct DataFrame {
  protocol::Opcode op;
  std::string_view payload;
};
std::optional<DataFrame> data_frame(const FrameBuffer& f) noexcept {
  if (f.size() < 2) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(f.bytes());
  const auto op = static_cast<protocol::Opcode>(b[0] & 0x0F);
  if ((b[0] & 0x80) == 0 || (op != protocol::Opcode::Text && op != protocol::Opcode::Binary))
    return std::nullopt;
  const unsigned len7 = b[1] & 0x7F;
  const std::size_t header = len7 == 126 ? 4 : (len7 == 127 ? 10 : 2);
  if (f.size() < header) return std::nullopt;
  return DataFrame{op, std::string_view(f.bytes() + header, f.size() - header)};
}

}  // namespace

std::unique_ptr<CryptoSession> CryptoSession::offer() {
  std::unique_ptr<CryptoSession> s(new CryptoSession());
  auto [priv, pub] = crypto::ecdh_generate_keypair();
  s->private_key_ = std::move(priv);
  s->public_b64_ = util::base64_encode(pub);
  return s;
}

CryptoSession::~CryptoSession() {
  wipe(private_key_);
  wipe(aes_key_);
}

bool CryptoSession::accept(std::string_view client_public_key_b64, std::string* why) {
  if (keyed()) return true;  // one exchange per connection: a repeated hello keeps the key
  const auto peer = util::base64_decode(client_public_key_b64);
  if (!peer) {
    if (why) *why = "encryption_public_key is not standard base64";
    wipe(private_key_);
    return false;
  }
  try {
    aes_key_ = crypto::ecdh_derive_shared_secret(private_key_, *peer);
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    wipe(private_key_);
    return false;
  }
  wipe(private_key_);
  return true;
}

FrameRef CryptoSession::seal(const FrameRef& frame) const noexcept {
  const auto data = data_frame(*frame.get());
  if (!data) return frame;
  try {
    const std::string blob = crypto::aes_gcm_encrypt(aes_key_, data->payload);
    FrameBuffer* out =
        FrameBuffer::create(protocol::Opcode::Binary, spec::kMarkerEncrypted.size() + blob.size());
    char* p = out->payload();
    std::memcpy(p, spec::kMarkerEncrypted.data(), spec::kMarkerEncrypted.size());
    std::memcpy(p + spec::kMarkerEncrypted.size(), blob.data(), blob.size());
    return FrameRef(out);
  } catch (...) {
    return FrameRef();
  }
}

std::optional<std::string> CryptoSession::open(std::string_view blob, std::string* why) const {
  if (!keyed()) {
    if (why) *why = "E: frame before an encryption key was agreed (client_hello with encryption_public_key)";
    return std::nullopt;
  }
  try {
    return crypto::aes_gcm_decrypt(aes_key_, blob);
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
}

}  // namespace wse::transport
