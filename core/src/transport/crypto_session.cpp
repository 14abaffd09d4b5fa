#include "wse/transport/crypto_session.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

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

// One frame of a buffer built by make_frame / create_many / concat (server
// frames are never masked): opcode, payload and where the next frame starts.
// nullopt for raw bytes (HTTP responses, whose first byte is ASCII) and for a
// non-data frame.
struct DataFrame {
  protocol::Opcode op;
  std::string_view payload;
  std::size_t end;
};
std::optional<DataFrame> data_frame_at(const FrameBuffer& f, std::size_t at) noexcept {
  if (f.size() < at + 2) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(f.bytes()) + at;
  const auto op = static_cast<protocol::Opcode>(b[0] & 0x0F);
  if ((b[0] & 0x80) == 0 || (op != protocol::Opcode::Text && op != protocol::Opcode::Binary))
    return std::nullopt;
  const unsigned len7 = b[1] & 0x7F;
  const std::size_t header = len7 == 126 ? 4 : (len7 == 127 ? 10 : 2);
  if (f.size() < at + header) return std::nullopt;
  std::uint64_t len = len7;
  if (len7 >= 126) {
    len = 0;
    for (std::size_t i = 2; i < header; ++i) len = (len << 8) | b[i];
  }
  if (len > f.size() - at - header) return std::nullopt;
  return DataFrame{op, std::string_view(f.bytes() + at + header, len), at + header + len};
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
  const auto first = data_frame_at(*frame.get(), 0);
  if (!first) return frame;
  try {
    // A buffer of several messages (a publish run, a send_many() run) is sealed
    // message by message: the client decrypts each frame on its own.
    std::vector<std::string> bodies;
    bodies.reserve(frame->frames());
    for (std::optional<DataFrame> d = first;; d = data_frame_at(*frame.get(), d->end)) {
      if (!d) return FrameRef();  // a control frame or garbage inside a data buffer: never ours
      std::string body(spec::kMarkerEncrypted);
      body += crypto::aes_gcm_encrypt(aes_key_, d->payload);
      bodies.push_back(std::move(body));
      if (d->end == frame->size()) break;
    }
    std::vector<std::pair<protocol::Opcode, std::string_view>> parts;
    parts.reserve(bodies.size());
    for (const std::string& b : bodies) parts.emplace_back(protocol::Opcode::Binary, b);
    return FrameRef(FrameBuffer::create_many(parts.data(), parts.size()));
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
