#include <gtest/gtest.h>

#include <string>

#include "wse/filter/regex.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/priority_message_queue.hpp"
#include "wse/util/priority_queue.hpp"
#include "wse/util/sequencer.hpp"
#include "wse/util/token_bucket.hpp"

namespace {

TEST(PriorityQueue, OrderAndCapacity) {
  wse::util::PriorityQueue<int> q(4);
  EXPECT_TRUE(q.push(1, 10));
  EXPECT_TRUE(q.push(5, 20));
  EXPECT_TRUE(q.push(5, 21));
  EXPECT_TRUE(q.push(3, 30));
  EXPECT_FALSE(q.push(9, 99));
  EXPECT_EQ(*q.pop(), 20);
  EXPECT_EQ(*q.pop(), 21);
  EXPECT_EQ(*q.pop(), 30);
  EXPECT_EQ(*q.pop(), 10);
  EXPECT_FALSE(q.pop());
}

TEST(PriorityMessageQueue, SnapEvictRefuse) {
  EXPECT_EQ(wse::util::priority_level_index(9), 0u);
  EXPECT_EQ(wse::util::priority_level_index(7), 1u);
  EXPECT_EQ(wse::util::priority_level_index(4), 2u);
  EXPECT_EQ(wse::util::priority_level_index(2), 3u);
  wse::util::PriorityMessageQueue<std::string> q(2, 10);
  EXPECT_TRUE(q.enqueue("bg", 1, 0));
  EXPECT_TRUE(q.enqueue("hi", 8, 0));
  EXPECT_TRUE(q.enqueue("bg2", 0, 0));  // same level: evicts the older bg
  EXPECT_TRUE(q.enqueue("n", 5, 0));    // evicts bg2
  EXPECT_EQ(q.dropped(4), 2u);
  EXPECT_TRUE(q.enqueue("low", 3, 0));  // evicts NORMAL, the lowest level queued
  EXPECT_EQ(q.dropped(2), 1u);
  EXPECT_FALSE(q.enqueue("crit", 10, 0) && q.enqueue("crit2", 10, 0));  // evicts LOW, then refused
  EXPECT_EQ(q.dropped(3), 1u);
  EXPECT_EQ(q.dropped(0), 1u);  // a refusal counts under the arrival's level
  auto batch = q.dequeue_batch();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].value, "crit");
  EXPECT_EQ(batch[1].value, "hi");
}

TEST(TokenBucket, RefillIsContinuousAndCapped) {
  wse::util::TokenBucket b(10, 100, 0, 0);
  EXPECT_FALSE(b.try_consume(1, 0));
  EXPECT_TRUE(b.try_consume(1, 10'000'000));  // 10 ms -> 1 token
  EXPECT_DOUBLE_EQ(b.available(1'000'000'000), 10);
  b.reset(0);
  EXPECT_TRUE(b.try_consume(10, 0));
}

TEST(EventSequencer, Rules) {
  wse::util::EventSequencer<int> s(3);
  EXPECT_EQ(*s.process("t", 5, 5, 0), std::vector<int>{5});
  EXPECT_FALSE(s.process("t", 7, 7, 0));
  EXPECT_EQ(*s.process("t", 6, 6, 0), (std::vector<int>{6, 7}));
  EXPECT_FALSE(s.process("t", 6, 6, 0));
  EXPECT_FALSE(s.process("t", 9, 9, 0));
  EXPECT_EQ(*s.process("t", 20, 20, 0), (std::vector<int>{9, 20}));
  EXPECT_EQ(s.dropped(), 1u + 11u);  // the old 6, then 8 and 10..19
  EXPECT_FALSE(s.process("t", 23, 23, 0));
  EXPECT_EQ(s.cleanup(400, 300), 1u);
}

TEST(EventSequencer, CleanupEvictsOldBufferedAndForgetsIdleTopics) {
  wse::util::EventSequencer<int> s(10);
  ASSERT_TRUE(s.process("old", 1, 1, 0));
  EXPECT_FALSE(s.process("old", 3, 3, 0));    // buffered at t=0
  EXPECT_FALSE(s.process("old", 4, 4, 200));  // buffered at t=200
  ASSERT_TRUE(s.process("idle", 1, 1, 0));
  ASSERT_TRUE(s.process("busy", 1, 1, 0));
  ASSERT_TRUE(s.process("busy", 2, 2, 350));
  EXPECT_EQ(s.cleanup(400, 300), 1u);       // only seq 3 of "old" is older than 5 minutes
  EXPECT_EQ(s.topics().count("idle"), 0u);  // empty buffer and idle for 400 s: forgotten
  EXPECT_EQ(s.topics().count("busy"), 1u);  // seen 50 s ago: kept
  ASSERT_EQ(s.topics().count("old"), 1u);   // still holds seq 4
  EXPECT_EQ(s.topics().at("old").buffer.size(), 1u);
  EXPECT_EQ(s.topics().at("old").expected, 2u);
  // 3 was evicted, so filling the gap with 2 delivers only 2; a resent 3 then releases 4.
  EXPECT_EQ(*s.process("old", 2, 2, 401), std::vector<int>{2});
  EXPECT_EQ(*s.process("old", 3, 3, 402), (std::vector<int>{3, 4}));
  // A forgotten topic starts over with its next event.
  EXPECT_EQ(*s.process("idle", 9, 9, 403), std::vector<int>{9});
  s.reset(std::string("busy"));
  EXPECT_EQ(s.topics().count("busy"), 0u);
  s.reset(std::nullopt);
  EXPECT_TRUE(s.topics().empty());
}

TEST(DedupWindow, EvictsOldest) {
  wse::util::DedupWindow w(2);
  EXPECT_FALSE(w.seen("a", 0));
  EXPECT_FALSE(w.seen("b", 1));
  EXPECT_TRUE(w.seen("a", 2));
  EXPECT_FALSE(w.seen("c", 3));
  EXPECT_FALSE(w.seen("a", 4));
  w.forget_before(10);
  EXPECT_EQ(w.size(), 0u);
}

TEST(Regex, SearchOptionsAndErrors) {
  EXPECT_TRUE(wse::filter::regex_search("PL", "AAPL"));
  EXPECT_FALSE(wse::filter::regex_search("^PL", "AAPL"));
  EXPECT_TRUE(wse::filter::regex_search("^aa", "AAPL", "i"));
  EXPECT_THROW(wse::filter::regex_search("(", "x"), wse::InvalidArgument);
  EXPECT_THROW(wse::filter::regex_search("x", "x", "z"), wse::InvalidArgument);
  EXPECT_FALSE(wse::filter::regex_search("^(a+)+$", std::string(100000, 'a') + "!"));
}

}  // namespace
