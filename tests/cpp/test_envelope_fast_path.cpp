// The I/O thread skips parsing application messages that cannot be one the
// server answers itself; these tests pin down that the pre-filter never lets a
// server-handled message through unparsed.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <string>

#include "wse/protocol/envelope.hpp"
#include "wse/transport/shared_frame.hpp"

namespace wse::protocol {
namespace {

TEST(EnvelopeFastPath, ServerHandledTypesAreAlwaysInspected) {
  for (const char* json : {R"({"t":"ping","p":{"timestamp":1}})", R"({"type":"PING"})", R"({"t":"pong"})",
                           R"({"t":"PONG"})", R"({"t":"client_hello","p":{}})",
                           R"({"t":"subscription_update","p":{"action":"subscribe","topics":["a"]}})",
                           R"({"type":"subscription"})", R"({ "t" : "ping" })"}) {
    EXPECT_TRUE(may_be_server_handled(json)) << json;
    EXPECT_TRUE(inspect_inbound(json).is_object) << json;
  }
}

TEST(EnvelopeFastPath, EscapesForceInspection) {
  // "p\u0069ng" unescapes to "ping": only a parse can tell.
  EXPECT_TRUE(may_be_server_handled(R"({"t":"p\u0069ng"})"));
  EXPECT_EQ(inspect_inbound(R"({"t":"p\u0069ng"})").type, "ping");
}

TEST(EnvelopeFastPath, ApplicationMessagesSkipTheParse) {
  EXPECT_FALSE(may_be_server_handled(R"({"t":"order","p":{"id":1,"note":"pinged"}})"));
  EXPECT_FALSE(may_be_server_handled(R"({"t":"flood","n":3,"p":"xxxx"})"));
  EXPECT_FALSE(may_be_server_handled(R"({"t":"chat","p":{"text":"ping pong"}})"));  // not a whole string
  EXPECT_FALSE(may_be_server_handled(""));
}

// The word-at-a-time scan must decide exactly as the obvious definition: any
// backslash, or one of the names right after a quote.
bool reference_may_be_server_handled(std::string_view json) {
  static constexpr std::string_view kNames[] = {
      "ping\"", "PING\"", "pong\"", "PONG\"", "client_hello\"", "subscription\"", "subscription_update\""};
  if (json.find('\\') != std::string_view::npos) return true;
  for (std::size_t at = json.find('"'); at != std::string_view::npos; at = json.find('"', at + 1)) {
    const std::string_view rest = json.substr(at + 1);
    for (std::string_view name : kNames)
      if (rest.starts_with(name)) return true;
  }
  return false;
}

TEST(EnvelopeFastPath, ScanMatchesTheDefinitionOnRandomTexts) {
  // Pieces that make near misses likely: names cut short, quotes, escapes, padding.
  const std::string_view pieces[] = {"\"",
                                     "ping",
                                     "PING",
                                     "pong\"",
                                     "PONG",
                                     "client_hello",
                                     "subscription",
                                     "_update\"",
                                     "\\",
                                     "x",
                                     "{\"t\":",
                                     "}",
                                     "p",
                                     "s",
                                     "c",
                                     "P",
                                     "0123456789",
                                     "\xc3\xa9"};
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  for (int round = 0; round < 200000; ++round) {
    std::string text;
    const std::size_t parts = next() % 12;
    for (std::size_t i = 0; i < parts; ++i) text += pieces[next() % std::size(pieces)];
    ASSERT_EQ(may_be_server_handled(text), reference_may_be_server_handled(text)) << text;
  }
}

TEST(EnvelopeFastPath, ObjectOutline) {
  EXPECT_TRUE(looks_like_object(R"({"a":1})"));
  EXPECT_TRUE(looks_like_object(" \n{}\t "));
  EXPECT_FALSE(looks_like_object("[1,2]"));
  EXPECT_FALSE(looks_like_object("{"));
  EXPECT_FALSE(looks_like_object("hello"));
  EXPECT_FALSE(looks_like_object(""));
}

TEST(SharedFrame, ConcatKeepsFramesInOrderAndCountsThem) {
  transport::FrameRef a = transport::make_frame(Opcode::Text, "one");
  transport::FrameRef b = transport::make_frame(Opcode::Text, "two!");
  const transport::FrameBuffer* parts[] = {a.get(), b.get()};
  transport::FrameRef both(transport::FrameBuffer::concat(parts, 2));
  EXPECT_EQ(both->frames(), 2u);
  EXPECT_EQ(both->size(), a->size() + b->size());
  EXPECT_EQ(std::string_view(both->bytes(), both->size()),
            std::string(a->bytes(), a->size()) + std::string(b->bytes(), b->size()));
  EXPECT_EQ(a->frames(), 1u);
}

}  // namespace
}  // namespace wse::protocol
