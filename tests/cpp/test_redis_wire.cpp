// Unit tests of the pure wire parts of the Redis broker (core/src/cluster/):
// payload header, slot hashing, channel naming, RESP encoding and parsing,
// pub/sub push classification, CLUSTER SLOTS and MOVED parsing, duplicate
// filtering and the cluster pattern registry encoding.
#include <gtest/gtest.h>

#include "wse/cluster/cluster_topology.hpp"
#include "wse/cluster/duplicate_filter.hpp"
#include "wse/cluster/message_header.hpp"
#include "wse/cluster/pattern_registry.hpp"
#include "wse/cluster/pubsub_message.hpp"
#include "wse/cluster/redis_channel.hpp"
#include "wse/cluster/resp_reader.hpp"
#include "wse/cluster/resp_writer.hpp"
#include "wse/cluster/slot_hash.hpp"
#include "wse/util/errors.hpp"

using namespace wse::cluster;
using namespace std::chrono_literals;

namespace {

RespValue parse_one(std::string_view bytes) {
  RespReader r;
  EXPECT_TRUE(r.feed(bytes));
  auto v = r.next();
  EXPECT_TRUE(v.has_value()) << r.error();
  return v ? std::move(*v) : RespValue{};
}

}  // namespace

// ---- header --------------------------------------------------------------------

TEST(MessageHeader, RoundTripsEveryField) {
  MessageHeader h;
  h.publisher = 0x0102030405060708ull;
  h.seq = 0xfffffffffffffffeull;
  h.binary = true;
  h.multi_copy = true;
  h.message_id = 77;
  h.topic = "user:42:events";
  std::string out = "prefix";
  encode_message(h, std::string_view("\0payload", 8), out);
  ASSERT_EQ(out.size(), 6 + encoded_size(h, 8));
  const ParsedPayload p = parse_message(std::string_view(out).substr(6));
  ASSERT_EQ(p.kind, HeaderParse::Framed);
  EXPECT_EQ(p.header.publisher, h.publisher);
  EXPECT_EQ(p.header.seq, h.seq);
  EXPECT_TRUE(p.header.binary);
  EXPECT_TRUE(p.header.multi_copy);
  EXPECT_EQ(p.header.message_id, 77u);
  EXPECT_EQ(p.header.topic, "user:42:events");
  EXPECT_EQ(p.payload, std::string_view("\0payload", 8));
}

TEST(MessageHeader, ExactBytesOfTheSmallForm) {
  MessageHeader h;
  h.publisher = 1;
  h.seq = 2;
  std::string out;
  encode_message(h, "{}", out);
  const std::string expected("\0WS\x01\x00\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x02{}", 23);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(kHeaderSize, 21u);
}

TEST(MessageHeader, RawPayloadsPassThrough) {
  for (std::string_view raw : {std::string_view("{\"t\":\"x\"}"), std::string_view(""),
                               std::string_view("\0W", 2), std::string_view("WS\x01")}) {
    const ParsedPayload p = parse_message(raw);
    EXPECT_EQ(p.kind, HeaderParse::Raw);
    EXPECT_EQ(p.payload, raw);
  }
}

TEST(MessageHeader, MalformedHeadersAreRecognised) {
  MessageHeader h;
  h.publisher = 9;
  h.seq = 1;
  h.topic = "abc";
  std::string good;
  encode_message(h, "x", good);
  for (std::size_t cut = 3; cut < good.size() - 1; ++cut)
    EXPECT_EQ(parse_message(std::string_view(good).substr(0, cut)).kind, HeaderParse::Malformed) << cut;
  std::string bad_version = good;
  bad_version[3] = 2;
  EXPECT_EQ(parse_message(bad_version).kind, HeaderParse::Malformed);
  std::string bad_flags = good;
  bad_flags[4] = static_cast<char>(0x80);
  EXPECT_EQ(parse_message(bad_flags).kind, HeaderParse::Malformed);
  std::string zero_publisher;
  encode_message(MessageHeader{0, 1, false, false, 0, {}}, "x", zero_publisher);
  EXPECT_EQ(parse_message(zero_publisher).kind, HeaderParse::Malformed);
  EXPECT_THROW(encode_message(MessageHeader{1, 1, false, false, 0, std::string(70000, 't')}, "", good),
               wse::InvalidArgument);
}

// ---- slots and channels ------------------------------------------------------------

TEST(SlotHash, MatchesRedis) {
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);  // the CRC16/XMODEM check value
  EXPECT_EQ(key_slot("somekey"), 11058);         // examples from the CLUSTER KEYSLOT docs
  EXPECT_EQ(key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(key_slot("bar{hash_tag}"), 2515);
  EXPECT_EQ(key_slot("foo"), 12182);
}

TEST(SlotHash, HashTagRules) {
  EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hash_tag("no-tag"), "no-tag");
  EXPECT_EQ(hash_tag("open{only"), "open{only");
  EXPECT_EQ(key_slot(kRegistryKey), key_slot(kRegistryChannel));
  EXPECT_EQ(key_slot("wse:room:{7}:a"), key_slot("wse:room:{7}:b"));
}

TEST(RedisChannel, Naming) {
  EXPECT_EQ(channel_for("user:1:events"), "wse:user:1:events");
  EXPECT_EQ(redis_pattern_for("user:*:events"), "wse:user:*:events");
  EXPECT_EQ(redis_pattern_for("a[b]\\c?"), "wse:a\\[b\\]\\\\c?");  // our globs have no classes or escapes
  EXPECT_EQ(topic_of("wse:x").value(), "x");
  EXPECT_FALSE(topic_of("wse:").has_value());
  EXPECT_FALSE(topic_of("other:x").has_value());
}

// ---- RESP ----------------------------------------------------------------------------

TEST(Resp, WriterEncodesArraysOfBulkStrings) {
  std::string out;
  append_command(out, {"PUBLISH", "wse:t", std::string_view("a\0b", 3)});
  EXPECT_EQ(out, std::string("*3\r\n$7\r\nPUBLISH\r\n$5\r\nwse:t\r\n$3\r\na\0b\r\n", 37));
  out.clear();
  append_command(out, std::vector<std::string_view>{});
  EXPECT_EQ(out, "*0\r\n");
}

TEST(Resp, ReaderParsesEveryType) {
  const RespValue v = parse_one("*6\r\n$3\r\nfoo\r\n:-42\r\n+OK\r\n-ERR bad\r\n$-1\r\n*1\r\n*0\r\n");
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.elements.size(), 6u);
  EXPECT_EQ(v.elements[0].type, RespType::String);
  EXPECT_EQ(v.elements[0].str, "foo");
  EXPECT_EQ(v.elements[1].integer, -42);
  EXPECT_EQ(v.elements[2].type, RespType::Status);
  EXPECT_EQ(v.elements[2].text(), "OK");
  EXPECT_TRUE(v.elements[3].is_error());
  EXPECT_EQ(v.elements[4].type, RespType::Nil);
  ASSERT_TRUE(v.elements[5].is_array());
  EXPECT_TRUE(v.elements[5].elements[0].elements.empty());
}

TEST(Resp, ReaderHandlesByteAtATimeInput) {
  const std::string stream = "*3\r\n$7\r\nmessage\r\n$5\r\nwse:a\r\n$2\r\nhi\r\n:1\r\n";
  RespReader r;
  std::vector<RespValue> got;
  for (char c : stream) {
    ASSERT_TRUE(r.feed(std::string_view(&c, 1)));
    while (auto v = r.next()) got.push_back(std::move(*v));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].elements[2].str, "hi");
  EXPECT_EQ(got[1].integer, 1);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(Resp, ReaderRejectsGarbageAndLimits) {
  RespReader bad;
  EXPECT_TRUE(bad.feed("?what\r\n"));
  EXPECT_FALSE(bad.next().has_value());
  EXPECT_TRUE(bad.failed());
  EXPECT_FALSE(bad.feed("+OK\r\n"));  // a failed stream stays failed

  RespReader big(RespLimits{4, 1 << 20});
  ASSERT_TRUE(big.feed("*5\r\n"));
  EXPECT_FALSE(big.next().has_value());
  EXPECT_TRUE(big.failed());

  RespReader huge(RespLimits{16, 64});
  EXPECT_FALSE(huge.feed(std::string(100, 'x')));
  EXPECT_TRUE(huge.failed());
}

// ---- pub/sub pushes --------------------------------------------------------------------

TEST(PubSub, ClassifiesDeliveriesAndConfirmations) {
  const RespValue r0 = parse_one("*3\r\n$7\r\nmessage\r\n$5\r\nwse:a\r\n$1\r\nx\r\n");
  auto m = classify_push(r0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::Message);
  EXPECT_EQ(m->channel, "wse:a");
  EXPECT_EQ(m->payload, "x");
  const RespValue r1 = parse_one("*4\r\n$8\r\npmessage\r\n$5\r\nwse:*\r\n$5\r\nwse:a\r\n$1\r\ny\r\n");
  m = classify_push(r1);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::PMessage);
  EXPECT_EQ(m->pattern, "wse:*");
  EXPECT_EQ(m->payload, "y");
  const RespValue r2 = parse_one("*3\r\n$8\r\nsmessage\r\n$5\r\nwse:a\r\n$1\r\nz\r\n");
  m = classify_push(r2);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::SMessage);
  const RespValue r3 = parse_one("*3\r\n$10\r\nssubscribe\r\n$5\r\nwse:a\r\n:2\r\n");
  m = classify_push(r3);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::SSubscribe);
  EXPECT_EQ(m->count, 2);
  const RespValue r4 = parse_one("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  m = classify_push(r4);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::Unsubscribe);
  EXPECT_TRUE(m->channel.empty());
  const RespValue r5 = parse_one("*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  m = classify_push(r5);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PushKind::Pong);
  EXPECT_TRUE(is_delivery(PushKind::SMessage));
  EXPECT_FALSE(is_delivery(PushKind::Subscribe));
}

TEST(PubSub, RejectsMisshapenPushes) {
  EXPECT_FALSE(classify_push(parse_one(":1\r\n")));
  EXPECT_FALSE(classify_push(parse_one("*0\r\n")));
  EXPECT_FALSE(classify_push(parse_one("*2\r\n$7\r\nmessage\r\n$1\r\na\r\n")));
  EXPECT_FALSE(classify_push(parse_one("*3\r\n$7\r\nmessage\r\n:1\r\n$1\r\na\r\n")));
  EXPECT_FALSE(classify_push(parse_one("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n$1\r\n1\r\n")));
  EXPECT_FALSE(classify_push(parse_one("*1\r\n$5\r\nhello\r\n")));
}

// ---- cluster topology -------------------------------------------------------------------

TEST(ClusterTopology, ParsesClusterSlots) {
  const std::string reply =
      "*3\r\n"
      "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nid-a\r\n"
      "*4\r\n:5461\r\n:10922\r\n*3\r\n$0\r\n\r\n:7001\r\n$4\r\nid-b\r\n*2\r\n$9\r\n127.0.0.1\r\n:7004\r\n"
      "*3\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nid-a\r\n*0\r\n";
  std::string why;
  auto topo = parse_cluster_slots(parse_one(reply), "10.0.0.9", &why);
  ASSERT_TRUE(topo) << why;
  ASSERT_EQ(topo->masters.size(), 2u);
  EXPECT_EQ(topo->masters[0], (NodeAddress{"127.0.0.1", 7000}));
  EXPECT_EQ(topo->masters[1], (NodeAddress{"10.0.0.9", 7001}));  // empty host: the node we asked
  EXPECT_EQ(topo->owner[0], 0);
  EXPECT_EQ(topo->owner[5461], 1);
  EXPECT_EQ(topo->owner[16383], 0);
  EXPECT_EQ(topo->uncovered_slots(), 0u);
}

TEST(ClusterTopology, RejectsBadShapesAndReportsGaps) {
  std::string why;
  EXPECT_FALSE(parse_cluster_slots(parse_one(":1\r\n"), "h", &why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(parse_cluster_slots(parse_one("*1\r\n*3\r\n:9\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n"), "h", &why));
  EXPECT_FALSE(
      parse_cluster_slots(parse_one("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n"), "h", &why));
  EXPECT_FALSE(parse_cluster_slots(parse_one("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n"), "h", &why));
  auto partial =
      parse_cluster_slots(parse_one("*1\r\n*3\r\n:0\r\n:99\r\n*2\r\n$1\r\nh\r\n:1\r\n"), "h", &why);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->uncovered_slots(), 16384u - 100u);
}

TEST(ClusterTopology, ParsesRedirects) {
  auto r = parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ask);
  EXPECT_EQ(r->slot, 3999);
  EXPECT_EQ(r->node, (NodeAddress{"127.0.0.1", 6381}));
  r = parse_redirect("ASK 1 [::1]:7000");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ask);
  EXPECT_EQ(r->node.host, "::1");
  EXPECT_FALSE(parse_redirect("ERR nope"));
  EXPECT_FALSE(parse_redirect("MOVED 16384 h:1"));
  EXPECT_FALSE(parse_redirect("MOVED x h:1"));
  EXPECT_FALSE(parse_redirect("MOVED 1 h"));
  EXPECT_FALSE(parse_redirect("MOVED 1 h:0"));
}

// ---- duplicate filtering ------------------------------------------------------------------

TEST(DuplicateFilter, PerSourceSequences) {
  DuplicateFilter f;
  const auto now = DuplicateFilter::Clock::now();
  EXPECT_TRUE(f.fresh(1, 0, 5, now));
  EXPECT_FALSE(f.fresh(1, 0, 5, now));  // the same message through a second subscription
  EXPECT_FALSE(f.fresh(1, 0, 3, now));  // a retry Redis had already executed
  EXPECT_TRUE(f.fresh(1, 0, 6, now));
  EXPECT_TRUE(f.fresh(1, 1, 2, now));  // another node: its own stream
  EXPECT_TRUE(f.fresh(2, 0, 1, now));  // another publisher
  EXPECT_EQ(f.sources(), 3u);
  f.forget_source(0);
  EXPECT_EQ(f.sources(), 1u);
  f.expire(now + 11min);
  EXPECT_EQ(f.sources(), 0u);
}

TEST(DuplicateFilter, MultiCopyMessages) {
  DuplicateFilter f;
  const auto now = DuplicateFilter::Clock::now();
  EXPECT_TRUE(f.first_copy(1, 10, 2, now));
  EXPECT_FALSE(f.first_copy(1, 10, 2, now));
  EXPECT_EQ(f.pending_copies(), 1u);
  EXPECT_FALSE(f.first_copy(1, 10, 2, now));
  EXPECT_EQ(f.pending_copies(), 0u);  // all copies seen: forgotten
  EXPECT_TRUE(f.first_copy(1, 11, 0, now));
  EXPECT_EQ(f.pending_copies(), 0u);  // nothing more expected: nothing kept
  EXPECT_TRUE(f.first_copy(1, 12, 5, now));
  f.expire(now + 11s);
  EXPECT_EQ(f.pending_copies(), 0u);
}

TEST(DuplicateFilter, TablesAreBounded) {
  DuplicateFilter f(DuplicateFilterLimits{4, 4, 10min, 10s});
  const auto now = DuplicateFilter::Clock::now();
  for (std::uint64_t p = 1; p <= 10; ++p) EXPECT_TRUE(f.fresh(p, 0, 1, now + std::chrono::seconds(p)));
  EXPECT_EQ(f.sources(), 4u);
  for (std::uint64_t s = 1; s <= 100; ++s) EXPECT_TRUE(f.first_copy(1, s, 1, now));
  EXPECT_LE(f.pending_copies(), 4u);
  EXPECT_GT(f.evictions(), 0u);
}

TEST(RawCopyCounter, SkipsTheCopiesOfOnePublish) {
  RawCopyCounter c;
  EXPECT_TRUE(c.first("wse:a", 3));
  EXPECT_FALSE(c.first("wse:a", 3));
  EXPECT_FALSE(c.first("wse:a", 3));
  EXPECT_TRUE(c.first("wse:a", 3));  // the next publish
  c.reset();
  EXPECT_TRUE(c.first("wse:b", 1));
  EXPECT_TRUE(c.first("wse:b", 1));
  EXPECT_TRUE(c.first("wse:c", 2));
  EXPECT_TRUE(c.first("wse:d", 1));  // expected a copy of wse:c: counted as a mismatch
  EXPECT_EQ(c.mismatches(), 1u);
}

// ---- cluster pattern registry -------------------------------------------------------------

TEST(PatternRegistry, EntriesRoundTrip) {
  RegistryEntry e{1234567890123, {"user:*", "a:b\n?", "x"}};
  const std::string text = encode_registry_entry(e);
  EXPECT_EQ(text, "wse1:1234567890123:6:user:*5:a:b\n?1:x");
  auto back = decode_registry_entry(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->expires_unix_ms, e.expires_unix_ms);
  EXPECT_EQ(back->patterns, e.patterns);
  EXPECT_TRUE(decode_registry_entry("wse1:5:")->patterns.empty());
  for (std::string_view bad : {"", "wse2:1:", "wse1:x:", "wse1:1:9:ab", "wse1:1:0:", "wse1:-1:", "wse1:1:2"})
    EXPECT_FALSE(decode_registry_entry(bad)) << bad;
}

TEST(PatternRegistry, PatternSetMatchesWithACache) {
  PatternSet s;
  s.replace({"user:*", "*:events", "user:*"});
  EXPECT_EQ(s.patterns().size(), 2u);
  EXPECT_EQ(s.matching("user:1:events").size(), 2u);
  EXPECT_EQ(s.matching("user:1").size(), 1u);
  EXPECT_TRUE(s.matching("other").empty());
  s.replace({"other"});
  EXPECT_EQ(s.matching("other").size(), 1u);  // the cache was cleared
  EXPECT_TRUE(s.matching("user:1").empty());
}
