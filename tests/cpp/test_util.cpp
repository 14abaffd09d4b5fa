// Unit tests of core/src/util: base64, glob, clock, uuid, json_writer.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "vectors.hpp"
#include "wse/util/base64.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/glob.hpp"
#include "wse/util/json_writer.hpp"
#include "wse/util/uuid.hpp"

using namespace wse::util;

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int n = 0; n < 64; ++n) {
    EXPECT_EQ(base64_decode(base64_encode(data)).value(), data);
    EXPECT_EQ(base64url_decode(base64url_encode(data)).value(), data);
    data.push_back(static_cast<char>(n * 37 + 251));
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8").value(), "\xfb\xff");
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(base64_decode("Zm8").has_value());      // missing padding
  EXPECT_FALSE(base64_decode("Zm9=").has_value());     // non-canonical trailing bits
  EXPECT_FALSE(base64_decode("Zm*=").has_value());     // outside the alphabet
  EXPECT_FALSE(base64url_decode("Zm8=").has_value());  // padding in base64url
  EXPECT_FALSE(base64url_decode("Z").has_value());     // impossible length
}

TEST(Base64, DecodingIsCanonical) {
  // Whatever decodes must re-encode to the same text: every 2- and 3-character
  // tail over the whole alphabet, after a full group, in both alphabets.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t accepted = 0;
  for (char a : alphabet)
    for (char b : alphabet) {
      std::string two = std::string("QUJD") + a + b;
      if (auto d = base64url_decode(two)) {
        EXPECT_EQ(base64url_encode(*d), two);
        ++accepted;
      }
      for (char c : {'A', 'B', 'E', 'Q', '_'}) {
        std::string three = two + c;
        if (auto d3 = base64url_decode(three)) {
          EXPECT_EQ(base64url_encode(*d3), three);
        }
      }
    }
  EXPECT_EQ(accepted, 64u * 4);  // the last character carries 2 bits: 4 of 64 are canonical
  EXPECT_FALSE(base64url_decode("QUJD!A").has_value());
  EXPECT_FALSE(base64url_decode("QU=D").has_value());
  EXPECT_EQ(base64_decode("QUJDRA==").value(), "ABCD");
  EXPECT_FALSE(base64_decode("QUJDRA=").has_value());
}

TEST(Glob, Semantics) {
  EXPECT_TRUE(glob_match("user:*:events", "user:123:events"));
  EXPECT_TRUE(glob_match("user:*", "user:"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*:*:x", "a:b:c:x"));
  EXPECT_FALSE(glob_match("user:*:events", "user:123:event"));
  EXPECT_FALSE(glob_match("exact", "exactly"));
  EXPECT_TRUE(glob_match("**a", "bbba"));
  EXPECT_TRUE(is_glob("a*"));
  EXPECT_FALSE(is_glob("plain:topic"));
}

TEST(Glob, SharedVectors) {
  simdjson::dom::parser p;
  std::size_t n = 0;
  for (simdjson::dom::element v : wse::test::load_vectors(p, "globs")["vectors"]) {
    const std::string_view pattern(v["pattern"]), topic(v["topic"]);
    EXPECT_EQ(glob_match(pattern, topic), bool(v["match"])) << pattern << " vs " << topic;
    ++n;
  }
  EXPECT_GT(n, 30u);
}

TEST(Clock, FormatsIsoMilliseconds) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1771934400123), "2026-02-24T12:00:00.123Z");
  EXPECT_EQ(iso8601_us(1771934400123456), "2026-02-24T12:00:00.123456Z");
  EXPECT_EQ(iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Clock, ParsesIso) {
  EXPECT_EQ(parse_iso8601_us("2026-02-24T12:00:00.123Z").value(), 1771934400123000);
  EXPECT_EQ(parse_iso8601_us("2026-02-24T12:00:00.123456+00:00").value(), 1771934400123456);
  EXPECT_EQ(parse_iso8601_us("2026-02-24T14:00:00+02:00").value(), 1771934400000000);
  EXPECT_EQ(parse_iso8601_us("2026-02-24T12:00:00").value(), 1771934400000000);
  EXPECT_FALSE(parse_iso8601_us("2026-02-24").has_value());
  EXPECT_FALSE(parse_iso8601_us("not a date").has_value());
  EXPECT_FALSE(parse_iso8601_us("2026-13-01T00:00:00Z").has_value());
}

TEST(Uuid, Version7FormatAndOrder) {
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 5000; ++i) {
    std::string id = uuid7_string();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    EXPECT_GT(id, prev);  // monotonic within a thread
    prev = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(JsonWriter, BuildsEscapedObjects) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("t").string("a\"b\\c\n\x01").key("n").integer(-5).key("f").number(1.0);
  w.key("l").begin_array().boolean(true).null().uinteger(7).end_array().end_object();
  EXPECT_EQ(out, R"({"t":"a\"b\\c\n\u0001","n":-5,"f":1.0,"l":[true,null,7]})");
}
