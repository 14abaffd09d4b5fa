// The per-connection encryption session of the server (PROTOCOL.md 6.3) and the
// envelope pieces of the key exchange: server_ready offer, client_hello key.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "wse/crypto/aes_gcm.hpp"
#include "wse/crypto/ecdh.hpp"
#include "wse/protocol/envelope.hpp"
#include "wse/transport/crypto_session.hpp"
#include "wse/transport/shared_frame.hpp"
#include "wse/util/base64.hpp"

namespace {

using wse::protocol::Opcode;
using wse::transport::CryptoSession;
using wse::transport::FrameRef;
using wse::transport::make_frame;
using wse::transport::make_raw;

// Payload of an unmasked server frame.
std::string payload_of(const FrameRef& f) {
  const auto* b = reinterpret_cast<const unsigned char*>(f->bytes());
  const unsigned len7 = b[1] & 0x7F;
  const std::size_t header = len7 == 126 ? 4 : (len7 == 127 ? 10 : 2);
  return std::string(f->bytes() + header, f->size() - header);
}

struct Client {
  std::string priv, pub;
  Client() { std::tie(priv, pub) = wse::crypto::ecdh_generate_keypair(); }
  std::string key_for(const CryptoSession& s) const {
    return wse::crypto::ecdh_derive_shared_secret(priv, *wse::util::base64_decode(s.public_key_base64()));
  }
};

TEST(CryptoSession, OfferCarriesAnUncompressedP256Key) {
  auto s = CryptoSession::offer();
  const auto pub = wse::util::base64_decode(s->public_key_base64());
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->size(), 65u);
  EXPECT_EQ(static_cast<unsigned char>((*pub)[0]), 0x04);
  EXPECT_FALSE(s->keyed());
  EXPECT_FALSE(s->active());
  EXPECT_NE(CryptoSession::offer()->public_key_base64(), s->public_key_base64());  // ephemeral
}

TEST(CryptoSession, BothSidesDeriveTheSameKeyAndFramesRoundTrip) {
  auto s = CryptoSession::offer();
  Client c;
  std::string why;
  ASSERT_TRUE(s->accept(wse::util::base64_encode(c.pub), &why)) << why;
  ASSERT_TRUE(s->keyed());
  EXPECT_FALSE(s->active());  // not before server_hello is queued
  s->activate();
  ASSERT_TRUE(s->active());
  const std::string key = c.key_for(*s);

  // Outbound: a text frame becomes a binary E: frame with the payload as plaintext.
  const std::string text = R"(U{"t":"price","p":{"v":1}})";
  FrameRef sealed = s->seal(make_frame(Opcode::Text, text));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(static_cast<unsigned char>(sealed->bytes()[0]), 0x82);  // FIN + binary
  const std::string body = payload_of(sealed);
  ASSERT_EQ(body.substr(0, 2), "E:");
  EXPECT_EQ(body.size(), 2 + 12 + text.size() + 16);
  EXPECT_EQ(wse::crypto::aes_gcm_decrypt(key, body.substr(2)), text);
  // A large binary payload (16-bit length header) too.
  const std::string big(70000, 'z');
  EXPECT_EQ(wse::crypto::aes_gcm_decrypt(key, payload_of(s->seal(make_frame(Opcode::Binary, big))).substr(2)),
            big);

  // A buffer of several messages (a publish run, a send_many() run): every
  // message becomes its own sealed frame, in order, not one blob of all of them.
  const std::pair<Opcode, std::string_view> many[] = {{Opcode::Text, "first"},
                                                      {Opcode::Binary, std::string_view(big).substr(0, 300)},
                                                      {Opcode::Text, "third"}};
  FrameRef run(wse::transport::FrameBuffer::create_many(many, 3));
  FrameRef sealed_run = s->seal(run);
  ASSERT_TRUE(sealed_run);
  EXPECT_EQ(sealed_run->frames(), 3u);
  std::size_t at = 0;
  for (const auto& [op, text_of] : many) {
    const auto* b = reinterpret_cast<const unsigned char*>(sealed_run->bytes()) + at;
    ASSERT_LT(at, sealed_run->size());
    EXPECT_EQ(b[0], 0x82);
    const unsigned len7 = b[1] & 0x7F;
    const std::size_t header = len7 == 126 ? 4 : 2;
    const std::size_t len = len7 == 126 ? (std::size_t{b[2]} << 8 | b[3]) : len7;
    const std::string frame_body(sealed_run->bytes() + at + header, len);
    ASSERT_EQ(frame_body.substr(0, 2), "E:");
    EXPECT_EQ(wse::crypto::aes_gcm_decrypt(key, frame_body.substr(2)), std::string(text_of));
    at += header + len;
  }
  EXPECT_EQ(at, sealed_run->size());

  // Inbound: the client's E: body decrypts.
  auto plain = s->open(wse::crypto::aes_gcm_encrypt(key, "WSE{\"t\":\"ping\"}"), &why);
  ASSERT_TRUE(plain.has_value()) << why;
  EXPECT_EQ(*plain, "WSE{\"t\":\"ping\"}");
}

TEST(CryptoSession, ControlFramesAndRawBytesAreNotSealed) {
  auto s = CryptoSession::offer();
  Client c;
  ASSERT_TRUE(s->accept(wse::util::base64_encode(c.pub), nullptr));
  s->activate();
  FrameRef ping = make_frame(Opcode::Ping, "123");
  EXPECT_EQ(s->seal(ping).get(), ping.get());
  FrameRef close = make_frame(Opcode::Close, "\x03\xe8");
  EXPECT_EQ(s->seal(close).get(), close.get());
  FrameRef http = make_raw("HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(s->seal(http).get(), http.get());
}

TEST(CryptoSession, BadKeysAndTamperedFramesAreRefused) {
  std::string why;
  auto s = CryptoSession::offer();
  EXPECT_FALSE(s->accept("not base64!", &why));
  EXPECT_NE(why.find("base64"), std::string::npos);
  EXPECT_FALSE(s->keyed());

  auto t = CryptoSession::offer();
  std::string off_curve(65, '\x01');
  off_curve[0] = '\x04';
  EXPECT_FALSE(t->accept(wse::util::base64_encode(off_curve), &why));
  EXPECT_NE(why.find("peer public key"), std::string::npos);

  auto u = CryptoSession::offer();
  EXPECT_FALSE(u->open(std::string(40, 'x'), &why).has_value());  // no key yet
  Client c;
  ASSERT_TRUE(u->accept(wse::util::base64_encode(c.pub), &why));
  std::string blob = wse::crypto::aes_gcm_encrypt(c.key_for(*u), "hello");
  blob[14] = static_cast<char>(blob[14] ^ 1);
  EXPECT_FALSE(u->open(blob, &why).has_value());
  EXPECT_NE(why.find("authentication"), std::string::npos);
  EXPECT_FALSE(u->open("short", &why).has_value());
}

TEST(CryptoEnvelope, ServerReadyOfferAndClientHelloKey) {
  wse::protocol::ServerReadyInfo ready;
  ready.connection_id = "c1";
  ready.encryption_public_key = "QUJD";
  simdjson::dom::parser p;
  const std::string msg = wse::protocol::server_ready_message(ready).substr(3);  // strip WSE
  simdjson::dom::element doc = p.parse(msg);
  EXPECT_EQ(std::string_view(doc["p"]["details"]["encryption_public_key"]), "QUJD");
  EXPECT_TRUE(bool(doc["p"]["details"]["features"]["encryption"]));

  ready.encryption_public_key = {};
  const std::string plain = wse::protocol::server_ready_message(ready).substr(3);
  simdjson::dom::element doc2 = p.parse(plain);
  EXPECT_FALSE(bool(doc2["p"]["details"]["features"]["encryption"]));
  EXPECT_EQ(doc2["p"]["details"]["encryption_public_key"].error(), simdjson::NO_SUCH_FIELD);

  const auto info = wse::protocol::inspect_inbound(
      R"({"t":"client_hello","p":{"client_version":"x","encryption_public_key":"BAAA"}})");
  EXPECT_EQ(info.type, "client_hello");
  EXPECT_EQ(info.encryption_public_key, "BAAA");
  EXPECT_TRUE(wse::protocol::inspect_inbound(R"({"t":"client_hello","p":{}})").encryption_public_key.empty());
}

}  // namespace
