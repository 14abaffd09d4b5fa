#pragma once
// The inbound events one I/O thread collected in one loop turn, in one block:
// every payload is appended to a single byte string (one growing allocation per
// batch instead of one per event), followed by kPadding readable bytes, so a
// parser that reads a little past the end of a document (simdjson) can work on
// the bytes in place. Each connection of a run of consecutive events is held
// once (one reference count per run, not per event).
//
// Thread-safety: built by one I/O thread, then handed over whole (through
// InboundQueue); after seal() it is only read, by any number of threads.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wse::transport {

struct ConnInfo;

enum class InboundKind : std::uint8_t {
  AuthConnect,  // data: user_id
  Connect,      // data: Cookie header
  Msg,          // data: JSON object text (category prefix removed)
  MsgPack,      // data: MessagePack map bytes
  Raw,          // data: text that is not a JSON object
  Bin,          // data: binary frame bytes
  Disconnect,   // data: empty
};

// Lifecycle events are never dropped (they are bounded by max_connections).
constexpr bool is_lifecycle(InboundKind kind) noexcept {
  return kind == InboundKind::AuthConnect || kind == InboundKind::Connect || kind == InboundKind::Disconnect;
}

// One event: a view of its batch (valid while the batch lives).
struct InboundEvent {
  InboundKind kind = InboundKind::Raw;
  std::uint32_t conn = 0;  // index into the batch's connections
  std::size_t offset = 0;  // payload bytes in the batch
  std::size_t size = 0;
};

class InboundBatch {
 public:
  InboundBatch() = default;
  // Reserves room for `bytes` of payload and `events` events up front (capped), so
  // a batch as big as the shard's previous one fills without regrowing: a grown
  // block is a fresh allocation and a copy of every payload so far.
  InboundBatch(std::size_t bytes, std::size_t events);

  // Bytes after every payload that may be read (and are zero after the last one).
  static constexpr std::size_t kPadding = 64;

  // Appends one event; `conn` must not be null. Not after seal().
  void add(InboundKind kind, const std::shared_ptr<ConnInfo>& conn, std::string_view data);
  // Adds the padding; call once, before handing the batch over.
  void seal();
  // Keeps the lifecycle events and the first `data_budget` data events, drops the
  // other data events (and their bytes); returns how many were dropped.
  std::size_t keep_data(std::size_t data_budget);

  std::size_t size() const noexcept { return events_.size(); }
  // Payload bytes held (padding excluded): the size hint for the shard's next batch.
  std::size_t payload_bytes() const noexcept { return bytes_.size() - (sealed_ ? kPadding : 0); }
  // Bytes the block can hold before it is reallocated.
  std::size_t capacity_bytes() const noexcept { return bytes_.capacity(); }
  bool empty() const noexcept { return events_.empty(); }
  const InboundEvent& event(std::size_t i) const noexcept { return events_[i]; }
  // The payload; at least kPadding readable bytes follow it once sealed.
  std::string_view data(const InboundEvent& e) const noexcept { return {bytes_.data() + e.offset, e.size}; }
  const std::shared_ptr<ConnInfo>& conn(const InboundEvent& e) const noexcept { return conns_[e.conn]; }

 private:
  std::string bytes_;
  std::vector<InboundEvent> events_;
  std::vector<std::shared_ptr<ConnInfo>> conns_;
  bool sealed_ = false;
};

}  // namespace wse::transport
