// The inbound queue between the I/O threads and the application: batches of
// events in one block each, a capacity counted in events, lifecycle events never
// dropped, partial pops, and the padding that lets the binding parse in place.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "wse/transport/inbound.hpp"

namespace wse::transport {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<ConnInfo> conn() { return std::make_shared<ConnInfo>(); }

std::unique_ptr<InboundBatch> batch_of(const std::shared_ptr<ConnInfo>& c,
                                       std::initializer_list<const char*> msgs) {
  auto b = std::make_unique<InboundBatch>();
  for (const char* m : msgs) b->add(InboundKind::Msg, c, m);
  return b;
}

// Every event taken, as "<kind>:<payload>".
std::vector<std::string> texts(const std::vector<InboundSlice>& slices) {
  std::vector<std::string> out;
  for (const auto& s : slices)
    for (std::size_t i = s.first; i < s.last; ++i) {
      const InboundEvent& e = s.batch->event(i);
      out.push_back(std::to_string(static_cast<int>(e.kind)) + ":" + std::string(s.batch->data(e)));
    }
  return out;
}

TEST(InboundBatch, ASizeHintReservesTheBlockSoItIsNotReallocatedWhileFilled) {
  // A shard passes what its previous batch held: filling that much again keeps
  // the block where it is (no regrowth, no copy of the payloads so far).
  auto c = conn();
  const std::string msg(100, 'm');
  InboundBatch b(800 * msg.size(), 800);
  EXPECT_GE(b.capacity_bytes(), 800 * msg.size() + InboundBatch::kPadding);
  b.add(InboundKind::Raw, c, msg);
  const char* first = b.data(b.event(0)).data();
  for (int i = 1; i < 800; ++i) b.add(InboundKind::Raw, c, msg);
  EXPECT_EQ(b.data(b.event(0)).data(), first);
  EXPECT_EQ(b.payload_bytes(), 800 * msg.size());
  b.seal();
  EXPECT_EQ(b.payload_bytes(), 800 * msg.size());  // the padding is not payload
  EXPECT_EQ(b.data(b.event(799)), msg);
  // The hint is capped: one outsized turn does not make later batches hold megabytes.
  InboundBatch huge(std::size_t{1} << 30, 1u << 30);
  EXPECT_LE(huge.capacity_bytes(), std::size_t{2} << 20);
  EXPECT_TRUE(huge.empty());
}

TEST(InboundQueue, KeepsOrderAcrossBatchesAndPartialPops) {
  InboundQueue q(100);
  auto c = conn();
  q.push(batch_of(c, {"a", "b", "c"}));
  q.push(batch_of(c, {"d", "e"}));
  EXPECT_EQ(q.depth(), 5u);
  std::vector<InboundSlice> got;
  EXPECT_EQ(q.pop(got, 2, 0ms), 2u);
  EXPECT_EQ(q.pop(got, 2, 0ms), 2u);  // the rest of the first batch and the start of the second
  EXPECT_EQ(q.pop(got, 10, 0ms), 1u);
  EXPECT_EQ(q.pop(got, 10, 0ms), 0u);
  const std::vector<std::string> want = {"2:a", "2:b", "2:c", "2:d", "2:e"};
  EXPECT_EQ(texts(got), want);
  EXPECT_EQ(q.depth(), 0u);
  EXPECT_EQ(q.total_drained(), 5u);
}

TEST(InboundQueue, DropsDataBeyondCapacityButNeverLifecycleEvents) {
  InboundQueue q(3);
  auto c = conn();
  q.push(batch_of(c, {"1", "2"}));
  auto b = std::make_unique<InboundBatch>();
  b->add(InboundKind::Msg, c, "3");
  b->add(InboundKind::Msg, c, "4-dropped");
  b->add(InboundKind::Disconnect, c, "");
  b->add(InboundKind::Msg, c, "5-dropped");
  EXPECT_EQ(q.push(std::move(b)), 2u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(q.depth(), 4u);  // the disconnect goes beyond the capacity
  std::vector<InboundSlice> got;
  q.pop(got, 10, 0ms);
  const std::vector<std::string> want = {"2:1", "2:2", "2:3", "6:"};
  EXPECT_EQ(texts(got), want);
  // Room again once drained.
  EXPECT_EQ(q.push(batch_of(c, {"6", "7", "8"})), 0u);
}

TEST(InboundQueue, PayloadsArePaddedAndHoldTheirConnection) {
  InboundQueue q(10);
  auto c1 = conn(), c2 = conn();
  auto b = std::make_unique<InboundBatch>();
  b->add(InboundKind::Msg, c1, R"({"t":"x"})");
  b->add(InboundKind::Raw, c1, "hello");
  b->add(InboundKind::Bin, c2, std::string_view("\0\1", 2));
  q.push(std::move(b));
  std::weak_ptr<ConnInfo> gone = c2;
  c2.reset();  // the batch keeps the connection alive while its events are queued
  std::vector<InboundSlice> got;
  q.pop(got, 10, 0ms);
  ASSERT_EQ(got.size(), 1u);
  const InboundBatch& batch = *got[0].batch;
  EXPECT_EQ(batch.conn(batch.event(0)).get(), c1.get());
  EXPECT_EQ(batch.conn(batch.event(1)).get(), c1.get());
  ASSERT_FALSE(gone.expired());
  EXPECT_EQ(batch.data(batch.event(2)), std::string_view("\0\1", 2));
  // The last payload is followed by kPadding zero bytes (inside the batch's block).
  const std::string_view last = batch.data(batch.event(2));
  for (std::size_t i = 0; i < InboundBatch::kPadding; ++i) EXPECT_EQ(last.data()[last.size() + i], '\0');
  got.clear();
  EXPECT_TRUE(gone.expired());
}

TEST(InboundQueue, PopWaitsForAFirstEventAndCloseWakesIt) {
  InboundQueue q(10);
  auto c = conn();
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);
    q.push(batch_of(c, {"late"}));
  });
  std::vector<InboundSlice> got;
  EXPECT_EQ(q.pop(got, 10, 5000ms), 1u);
  producer.join();
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    q.close();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(q.pop(got, 10, -1ms), 0u);  // would wait forever without close()
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  closer.join();
}

}  // namespace
}  // namespace wse::transport
