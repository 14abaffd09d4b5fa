#pragma once
// Redis Cluster topology: which master serves which slot (from CLUSTER SLOTS),
// and the MOVED / ASK redirections a node answers when it does not own a slot.
// Pure; thread-safe.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wse/cluster/resp_reader.hpp"
#include "wse/cluster/slot_hash.hpp"

namespace wse::cluster {

struct NodeAddress {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const NodeAddress&) const = default;
  std::string to_string() const;  // "host:port"
};

struct Topology {
  std::vector<NodeAddress> masters;  // each master once
  // slot -> index into masters, kNoOwner when the slot is not served.
  static constexpr std::uint16_t kNoOwner = 0xffff;
  std::vector<std::uint16_t> owner = std::vector<std::uint16_t>(kSlotCount, kNoOwner);
  std::size_t uncovered_slots() const noexcept;
};

// Parses a CLUSTER SLOTS reply. A master announced with an empty or "?" host
// is the node that answered (`asked_host`). nullopt (and *error) on a reply of
// the wrong shape.
std::optional<Topology> parse_cluster_slots(const RespValue& reply, std::string_view asked_host,
                                            std::string* error);

struct Redirect {
  bool ask = false;  // ASK (one-off, during migration) rather than MOVED
  std::uint16_t slot = 0;
  NodeAddress node;
};

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381"; nullopt otherwise.
std::optional<Redirect> parse_redirect(std::string_view error_text);

}  // namespace wse::cluster
