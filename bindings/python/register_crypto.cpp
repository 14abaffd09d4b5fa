// AES-GCM, ECDH, HMAC, SHA-256 and message signing (core/src/crypto).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include "convert/buffer.hpp"
#include "exports.hpp"
#include "wse/crypto/aes_gcm.hpp"
#include "wse/crypto/ecdh.hpp"
#include "wse/crypto/hash.hpp"

namespace wse::py {

namespace {

nb::bytes to_bytes(const std::string& s) { return nb::bytes(s.data(), s.size()); }

// Large inputs are processed without the GIL (bytes are immutable, so the view
// stays valid); small ones are not worth the release/acquire.
constexpr std::size_t kReleaseGilAbove = 64 * 1024;

template <class F>
auto maybe_without_gil(const BytesView& view, F&& f) {
  if (view.view().size() > kReleaseGilAbove && view.is_bytes()) {
    nb::gil_scoped_release release;
    return f();
  }
  return f();
}

}  // namespace

void register_crypto(nb::module_& m) {
  m.def(
      "aes_gcm_encrypt",
      [](nb::handle key, nb::handle plaintext) {
        BytesView k(key, "key"), p(plaintext, "plaintext");
        return to_bytes(maybe_without_gil(p, [&] { return crypto::aes_gcm_encrypt(k.view(), p.view()); }));
      },
      nb::arg("key"), nb::arg("plaintext"),
      nb::sig("def aes_gcm_encrypt(key: bytes | bytearray | memoryview, plaintext: bytes | bytearray | "
              "memoryview) -> bytes"),
      "AES-256-GCM: returns nonce(12) || ciphertext || tag(16) with a random nonce.\n"
      "ValueError if the key is not 32 bytes.");
  m.def(
      "aes_gcm_decrypt",
      [](nb::handle key, nb::handle data) {
        BytesView k(key, "key"), d(data, "data");
        return to_bytes(maybe_without_gil(d, [&] { return crypto::aes_gcm_decrypt(k.view(), d.view()); }));
      },
      nb::arg("key"), nb::arg("data"),
      nb::sig("def aes_gcm_decrypt(key: bytes | bytearray | memoryview, data: bytes | bytearray | "
              "memoryview) -> bytes"),
      "Inverse of aes_gcm_encrypt. ValueError for input shorter than 28 bytes or a key that is not\n"
      "32 bytes; RuntimeError when authentication fails (tampered, truncated or wrong key).");
  m.def(
      "ecdh_generate_keypair",
      [] {
        auto [priv, pub] = crypto::ecdh_generate_keypair();
        return nb::make_tuple(to_bytes(priv), to_bytes(pub));
      },
      nb::sig("def ecdh_generate_keypair() -> tuple[bytes, bytes]"),
      "A fresh P-256 key pair: (private 32-byte scalar, public 65-byte uncompressed SEC1).");
  m.def(
      "ecdh_derive_shared_secret",
      [](nb::handle private_key, nb::handle peer_public_key) {
        BytesView k(private_key, "private_key"), p(peer_public_key, "peer_public_key");
        return to_bytes(crypto::ecdh_derive_shared_secret(k.view(), p.view()));
      },
      nb::arg("private_key"), nb::arg("peer_public_key"),
      nb::sig("def ecdh_derive_shared_secret(private_key: bytes | bytearray | memoryview, "
              "peer_public_key: bytes | bytearray | memoryview) -> bytes"),
      "ECDH on P-256, then HKDF-SHA256(salt=b'wse-encryption', info=b'aes-gcm-key') to a 32-byte\n"
      "AES key. ValueError for a malformed private key or a peer key not on the curve.");
  m.def(
      "hmac_sha256",
      [](nb::handle key, nb::handle data) {
        BytesView k(key, "key"), d(data, "data");
        const auto mac = crypto::hmac_sha256(k.view(), d.view());
        return nb::bytes(mac.data(), mac.size());
      },
      nb::arg("key"), nb::arg("data"),
      nb::sig("def hmac_sha256(key: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview) -> "
              "bytes"),
      "HMAC-SHA256 (32 bytes).");
  m.def(
      "sha256",
      [](nb::handle data) {
        BytesView d(data, "data");
        return crypto::sha256_hex(d.view());
      },
      nb::arg("data"), nb::sig("def sha256(data: bytes | bytearray | memoryview) -> str"),
      "SHA-256 as a lowercase hex string.");
  m.def(
      "sign_message",
      [](nb::handle payload_json, nb::handle secret) {
        const std::string_view payload = str_view(payload_json, "payload_json");
        BytesView s(secret, "secret");
        const std::string digest_hex = crypto::sha256_hex(payload);
        const auto mac = crypto::hmac_sha256(s.view(), digest_hex);
        return crypto::to_hex(mac.data(), mac.size());
      },
      nb::arg("payload_json"), nb::arg("secret"),
      nb::sig("def sign_message(payload_json: str, secret: bytes | bytearray | memoryview) -> str"),
      "Hex HMAC-SHA256(secret, hex SHA-256 of the UTF-8 payload).");
  for (const char* name : {"aes_gcm_encrypt", "aes_gcm_decrypt", "ecdh_generate_keypair",
                           "ecdh_derive_shared_secret", "hmac_sha256", "sha256", "sign_message"}) {
    export_name(m, name);
    export_alias(m, (std::string("rust_") + name).c_str(), name);
  }
}

}  // namespace wse::py
