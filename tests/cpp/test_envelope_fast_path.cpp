// The I/O thread skips parsing application messages that cannot be one the
// server answers itself; these tests pin down that the pre-filter never lets a
// server-handled message through unparsed.
#include <gtest/gtest.h>

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
