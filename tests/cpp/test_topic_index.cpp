#include <gtest/gtest.h>

#include <set>

#include "wse/protocol/envelope.hpp"
#include "wse/topics/topic_index.hpp"

namespace {

struct Sub {
  int id;
  std::uint64_t epoch = 0;
};

std::vector<int> deliver(wse::topics::TopicIndex<Sub>& index, std::string_view topic, std::uint64_t& epoch) {
  ++epoch;
  std::vector<int> got;
  index.for_each(
      topic, [&](Sub* s) { got.push_back(s->id); },
      [&](Sub* s) {
        if (s->epoch == epoch) return true;
        s->epoch = epoch;
        return false;
      });
  std::sort(got.begin(), got.end());
  return got;
}

TEST(TopicIndex, ExactGlobAndOncePerPublish) {
  wse::topics::TopicIndex<Sub> index;
  Sub a{1}, b{2}, c{3};
  std::uint64_t epoch = 0;
  EXPECT_TRUE(index.add("user:1:events", &a));
  EXPECT_FALSE(index.add("user:1:events", &a));
  index.add("user:*:events", &a);  // a matches twice: exact + pattern
  index.add("user:?:events", &b);
  index.add("trades", &c);
  EXPECT_EQ(deliver(index, "user:1:events", epoch), (std::vector<int>{1, 2}));
  EXPECT_EQ(deliver(index, "user:12:events", epoch), (std::vector<int>{1}));
  EXPECT_EQ(deliver(index, "trades", epoch), (std::vector<int>{3}));
  EXPECT_EQ(deliver(index, "nothing", epoch), (std::vector<int>{}));
  EXPECT_TRUE(index.remove("user:*:events", &a));
  EXPECT_EQ(deliver(index, "user:12:events", epoch), (std::vector<int>{}));
  EXPECT_EQ(deliver(index, "user:1:events", epoch), (std::vector<int>{1, 2}));
  EXPECT_TRUE(index.remove("user:1:events", &a));
  EXPECT_FALSE(index.remove("user:1:events", &a));
  EXPECT_EQ(index.exact_count("trades"), 1u);
  index.remove("trades", &c);
  index.remove("user:?:events", &b);
  EXPECT_TRUE(index.empty());
}

TEST(TopicIndex, CacheIsInvalidatedByNewPatterns) {
  wse::topics::TopicIndex<Sub> index;
  Sub a{1}, b{2};
  std::uint64_t epoch = 0;
  index.add("x.*", &a);
  EXPECT_EQ(deliver(index, "x.y", epoch), (std::vector<int>{1}));
  index.add("*.y", &b);  // must be seen for the cached topic too
  EXPECT_EQ(deliver(index, "x.y", epoch), (std::vector<int>{1, 2}));
}

TEST(Envelope, CategoriesAndPrefixes) {
  using namespace wse::protocol;
  EXPECT_EQ(category_for_type("server_ready"), "WSE");
  EXPECT_EQ(category_for_type("PONG"), "WSE");
  EXPECT_EQ(category_for_type("price_snapshot"), "S");
  EXPECT_EQ(category_for_type("snapshot_complete"), "S");
  EXPECT_EQ(category_for_type("price"), "U");
  EXPECT_EQ(strip_category("WSE{\"t\":1}"), "{\"t\":1}");
  EXPECT_EQ(strip_category("U{}"), "{}");
  EXPECT_EQ(strip_category("{}"), "{}");
  EXPECT_FALSE(strip_category("hello"));
  EXPECT_EQ(legacy_ping("wse:ping:123"), "123");
  EXPECT_EQ(legacy_ping("PING:9"), "9");
  EXPECT_FALSE(legacy_ping("PONG:9"));
}

TEST(Envelope, InspectInbound) {
  using namespace wse::protocol;
  auto ping = inspect_inbound(R"({"t":"ping","p":{"timestamp":42}})");
  EXPECT_TRUE(ping.is_object);
  EXPECT_EQ(ping.type, "ping");
  EXPECT_EQ(ping.ping_timestamp, 42);
  auto long_keys = inspect_inbound(
      R"({"type":"subscription_update","payload":{"action":"subscribe","topics":["a","b"]}})");
  EXPECT_EQ(long_keys.type, "subscription_update");
  EXPECT_EQ(long_keys.action, "subscribe");
  EXPECT_EQ(long_keys.topics, (std::vector<std::string>{"a", "b"}));
  auto bad_topics = inspect_inbound(R"({"t":"subscription_update","p":{"action":"subscribe","topics":[1]}})");
  EXPECT_FALSE(bad_topics.topics_valid);
  EXPECT_FALSE(inspect_inbound("{not json").is_object);
  EXPECT_FALSE(inspect_inbound("[1,2]").is_object);
  auto no_type = inspect_inbound(R"({"x":1})");
  EXPECT_TRUE(no_type.is_object);
  EXPECT_EQ(no_type.type, "");
}

}  // namespace
