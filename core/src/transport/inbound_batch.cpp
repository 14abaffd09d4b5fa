#include "wse/transport/inbound_batch.hpp"

#include <algorithm>

namespace wse::transport {

namespace {
// First capacity of a batch's byte block: one epoll round of small messages fits
// without regrowing; a round with more grows it geometrically (amortized O(1) per byte).
constexpr std::size_t kFirstBlock = 4096;
// A size hint reserves at most this much: one outsized turn (a burst of big
// messages) does not make every later batch hold megabytes it does not use.
constexpr std::size_t kMaxReservedBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxReservedEvents = 16384;
}  // namespace

InboundBatch::InboundBatch(std::size_t bytes, std::size_t events) {
  // Room for the padding too, which seal() appends.
  bytes_.reserve(std::clamp(bytes + kPadding, kFirstBlock, kMaxReservedBytes));
  events_.reserve(std::min(events, kMaxReservedEvents));
}

void InboundBatch::add(InboundKind kind, const std::shared_ptr<ConnInfo>& conn, std::string_view data) {
  if (conns_.empty() || conns_.back().get() != conn.get()) conns_.push_back(conn);
  if (bytes_.capacity() < kFirstBlock) bytes_.reserve(kFirstBlock);
  events_.push_back(
      InboundEvent{kind, static_cast<std::uint32_t>(conns_.size() - 1), bytes_.size(), data.size()});
  bytes_.append(data);
}

void InboundBatch::seal() {
  if (sealed_) return;
  sealed_ = true;
  bytes_.append(kPadding, '\0');
}

std::size_t InboundBatch::keep_data(std::size_t data_budget) {
  std::size_t data_events = 0;
  for (const InboundEvent& e : events_)
    if (!is_lifecycle(e.kind)) ++data_events;
  if (data_events <= data_budget) return 0;
  // Overload (the queue is full): compact what is kept.
  std::size_t kept_data = 0, dropped = 0, out = 0;
  std::string bytes;
  for (const InboundEvent& e : events_) {
    if (!is_lifecycle(e.kind)) {
      if (kept_data == data_budget) {
        ++dropped;
        continue;
      }
      ++kept_data;
    }
    InboundEvent moved = e;
    moved.offset = bytes.size();
    bytes.append(bytes_, e.offset, e.size);
    events_[out++] = moved;
  }
  events_.resize(out);
  if (sealed_) bytes.append(kPadding, '\0');
  bytes_ = std::move(bytes);  // the dropped payloads' memory is given back at once
  return dropped;
}

}  // namespace wse::transport
