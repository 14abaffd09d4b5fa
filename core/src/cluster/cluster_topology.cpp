#include "wse/cluster/cluster_topology.hpp"

#include <charconv>

namespace wse::cluster {

std::string NodeAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::size_t Topology::uncovered_slots() const noexcept {
  std::size_t n = 0;
  for (auto o : owner) n += o == kNoOwner ? 1 : 0;
  return n;
}

std::optional<Topology> parse_cluster_slots(const RespValue& reply, std::string_view asked_host,
                                            std::string* error) {
  auto bad = [&](const char* why) -> std::optional<Topology> {
    if (error != nullptr) *error = std::string("unexpected CLUSTER SLOTS reply: ") + why;
    return std::nullopt;
  };
  if (!reply.is_array()) return bad("not an array");
  Topology topo;
  for (const RespValue& range : reply.elements) {
    if (!range.is_array() || range.elements.size() < 3)
      return bad("a slot range is not [start, end, master, ...]");
    const RespValue& first = range.elements[0];
    const RespValue& last = range.elements[1];
    const RespValue& master = range.elements[2];
    if (first.type != RespType::Integer || last.type != RespType::Integer)
      return bad("slot bounds are not integers");
    if (first.integer < 0 || last.integer >= kSlotCount || first.integer > last.integer)
      return bad("slot bounds out of range");
    if (!master.is_array() || master.elements.size() < 2 || master.elements[1].type != RespType::Integer)
      return bad("a master is not [host, port, ...]");
    const RespValue& host = master.elements[0];
    if (host.type != RespType::String && host.type != RespType::Nil)
      return bad("a master host is not a string");
    NodeAddress node;
    node.host = host.type == RespType::String ? host.str : std::string();
    if (node.host.empty() || node.host == "?") node.host = std::string(asked_host);
    if (master.elements[1].integer <= 0 || master.elements[1].integer > 65535)
      return bad("a master port is out of range");
    node.port = static_cast<std::uint16_t>(master.elements[1].integer);
    std::size_t index = topo.masters.size();
    for (std::size_t i = 0; i < topo.masters.size(); ++i)
      if (topo.masters[i] == node) index = i;
    if (index == topo.masters.size()) {
      if (topo.masters.size() >= Topology::kNoOwner) return bad("too many masters");
      topo.masters.push_back(node);
    }
    for (long long s = first.integer; s <= last.integer; ++s)
      topo.owner[static_cast<std::size_t>(s)] = static_cast<std::uint16_t>(index);
  }
  return topo;
}

std::optional<Redirect> parse_redirect(std::string_view text) {
  Redirect r;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    r.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const std::string_view slot_text = text.substr(0, space);
  auto [p, ec] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (ec != std::errc() || p != slot_text.data() + slot_text.size() || slot >= kSlotCount)
    return std::nullopt;
  r.slot = static_cast<std::uint16_t>(slot);
  const std::string_view endpoint = text.substr(space + 1);
  const std::size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = endpoint.substr(colon + 1);
  unsigned port = 0;
  auto [pp, pec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (pec != std::errc() || pp != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return std::nullopt;
  r.node.host = std::string(host);
  r.node.port = static_cast<std::uint16_t>(port);
  return r;
}

}  // namespace wse::cluster
