// RFC 6455 frame parser and encoders: the shared vectors in spec/vectors/frames.json
// plus properties the vectors cannot express (split feeding, encoder round trips).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wse/protocol/frame.hpp"
#include "wse/protocol/utf8.hpp"

namespace {

using wse::protocol::FrameLimits;
using wse::protocol::FrameParser;
using wse::protocol::Opcode;

struct Recorder {
  std::vector<std::string> events;
  void on_message(Opcode op, std::string_view p) {
    if (op == Opcode::Text) {
      events.push_back("text:" + std::string(p));
    } else {
      static const char* hex = "0123456789abcdef";
      std::string h;
      for (char ch : p) {
        const auto c = static_cast<unsigned char>(ch);
        h.push_back(hex[c >> 4]);
        h.push_back(hex[c & 15]);
      }
      events.push_back("binary_hex:" + h);
    }
  }
  void on_ping(std::string_view p) { events.push_back("ping:" + std::string(p)); }
  void on_pong(std::string_view p) { events.push_back("pong:" + std::string(p)); }
  void on_close(std::uint16_t code, std::string_view r) {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(r));
  }
  void on_protocol_error(std::uint16_t code, std::string_view) {
    events.push_back("error:" + std::to_string(code));
  }
};

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// Feeds `bytes` in chunks of `chunk`, keeping the unconsumed tail like the server does.
std::vector<std::string> run(const std::string& bytes, std::size_t max_size, std::size_t chunk) {
  FrameLimits limits;
  limits.max_message_size = max_size;
  FrameParser parser(limits);
  Recorder rec;
  std::string pending;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    pending.append(bytes.substr(at, chunk));
    auto r = parser.feed(pending.data(), pending.size(), rec);
    pending.erase(0, r.consumed);
    if (r.stop) break;
  }
  return rec.events;
}

TEST(Frame, SharedVectors) {
  std::ifstream in(std::string(WSE_SOURCE_DIR) + "/spec/vectors/frames.json");
  std::stringstream ss;
  ss << in.rdbuf();
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(ss.str());
  const auto max_size = static_cast<std::size_t>(int64_t(doc["max_message_size"]));
  int count = 0;
  for (simdjson::dom::element v : doc["vectors"]) {
    const std::string name{std::string_view(v["name"])};
    std::vector<std::string> expected;
    for (simdjson::dom::element e : v["events"]) {
      simdjson::dom::array a = e;
      std::string s{std::string_view(a.at(0))};
      for (std::size_t i = 1; i < a.size(); ++i) {
        s += ":";
        if (a.at(i).is_string()) {
          s += std::string(std::string_view(a.at(i)));
        } else {
          s += std::to_string(int64_t(a.at(i)));
        }
      }
      if (s.rfind("close:", 0) == 0 && a.size() == 2) s += ":";
      expected.push_back(s);
    }
    const std::string bytes = unhex(std::string_view{v["hex"]});
    for (std::size_t chunk : {bytes.size(), std::size_t{1}, std::size_t{3}}) {
      if (chunk == 0) continue;
      EXPECT_EQ(run(bytes, max_size, chunk), expected) << name << " (chunk " << chunk << ")";
    }
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(Frame, EncodersRoundTrip) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
    const std::string payload(n, 'q');
    const std::string wire = wse::protocol::encode_client_frame(Opcode::Binary, payload, 0xA1B2C3D4u);
    EXPECT_EQ(wire.size(), wse::protocol::frame_header_size(n, true) + n);
    FrameLimits limits;
    limits.max_message_size = 1 << 20;
    FrameParser parser(limits);
    Recorder rec;
    std::string buf = wire;
    auto r = parser.feed(buf.data(), buf.size(), rec);
    EXPECT_EQ(r.consumed, wire.size());
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0].size(), std::string("binary_hex:").size() + 2 * n);
  }
  const std::string server = wse::protocol::encode_frame(Opcode::Text, "hi");
  EXPECT_EQ(server, std::string("\x81\x02hi", 4));
  const std::string close = wse::protocol::encode_close_frame(4401, "Authentication failed");
  EXPECT_EQ(static_cast<unsigned char>(close[0]), 0x88);
  EXPECT_EQ(static_cast<unsigned char>(close[2]), 4401 >> 8);
  EXPECT_EQ(static_cast<unsigned char>(close[3]), 4401 & 0xFF);
}

TEST(Frame, MaskedTextIsCheckedForUtf8AtEveryPositionOfTheUnmaskingLoop) {
  // Unmasking tells ASCII payloads apart (those skip the UTF-8 pass): a
  // non-ASCII byte in a word of the loop or in its byte-wise tail must still
  // reach the full check, valid or not, whatever the key.
  auto feed_text = [](const std::string& text, std::uint32_t key) {
    const std::string wire = wse::protocol::encode_client_frame(Opcode::Text, text, key);
    FrameParser parser;
    Recorder rec;
    std::string buf = wire;
    parser.feed(buf.data(), buf.size(), rec);
    return rec.events;
  };
  for (std::uint32_t key : {0x00000000u, 0x80808080u, 0xA1B2C3D4u}) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 16u, 23u, 100u}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string valid(len, 'a');
        valid.replace(at, 1, "\xc3\xa9");  // U+00E9, two bytes
        EXPECT_EQ(feed_text(valid, key), std::vector<std::string>{"text:" + valid}) << len << " " << at;
        std::string invalid(len, 'a');
        invalid[at] = '\xff';
        EXPECT_EQ(feed_text(invalid, key), std::vector<std::string>{"error:1007"}) << len << " " << at;
      }
      const std::string ascii(len, 'z');
      EXPECT_EQ(feed_text(ascii, key), std::vector<std::string>{"text:" + ascii});
    }
  }
}

TEST(Frame, ServerSideAcceptsUnmaskedWhenNotRequired) {
  FrameLimits limits;
  limits.require_mask = false;
  FrameParser parser(limits);
  Recorder rec;
  std::string buf = wse::protocol::encode_frame(Opcode::Text, "plain");
  parser.feed(buf.data(), buf.size(), rec);
  EXPECT_EQ(rec.events, std::vector<std::string>{"text:plain"});
}

TEST(Frame, OversizeIsRejectedFromTheHeaderAlone) {
  // A 1 GiB length announced in the header fails at once, before any payload arrives.
  std::string header("\x82\xFF\x00\x00\x00\x00\x40\x00\x00\x00\x01\x02\x03\x04", 14);
  Recorder rec;
  FrameParser parser;
  auto r = parser.feed(header.data(), header.size(), rec);
  EXPECT_TRUE(r.stop);
  EXPECT_EQ(rec.events, std::vector<std::string>{"error:1009"});
}

TEST(Utf8, IsAsciiFindsAHighByteAtEveryPosition) {
  using wse::protocol::is_ascii;
  EXPECT_TRUE(is_ascii(""));
  for (std::size_t len : {1u, 7u, 8u, 15u, 16u, 17u, 24u, 33u, 100u}) {
    EXPECT_TRUE(is_ascii(std::string(len, '\x7f')));
    for (std::size_t at = 0; at < len; ++at) {
      std::string s(len, 'a');
      s[at] = '\x80';
      EXPECT_FALSE(is_ascii(s)) << len << " " << at;
    }
  }
}

TEST(Utf8, Edges) {
  using wse::protocol::is_valid_utf8;
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii text, long enough for the fast path"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));   // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));       // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));
}

}  // namespace
