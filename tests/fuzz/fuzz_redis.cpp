// Everything the Redis broker parses from bytes a Redis server sends: RESP
// replies (hiredis' reader with our object callbacks and limits), pub/sub
// pushes, the WSE payload header, CLUSTER SLOTS replies, MOVED/ASK errors and
// pattern-registry entries. The first input byte chooses how the rest is split
// into reads, so partial replies are exercised too.
#include <cstdint>
#include <string>

#include "wse/cluster/cluster_topology.hpp"
#include "wse/cluster/message_header.hpp"
#include "wse/cluster/pattern_registry.hpp"
#include "wse/cluster/pubsub_message.hpp"
#include "wse/cluster/resp_reader.hpp"

using namespace wse::cluster;

namespace {

void inspect(const RespValue& v) {
  if (auto push = classify_push(v)) {
    const ParsedPayload p = parse_message(push->payload);
    if (p.kind == HeaderParse::Framed) {
      std::string again;
      encode_message(p.header, p.payload, again);
      if (parse_message(again).kind != HeaderParse::Framed) __builtin_trap();  // round trip must hold
    }
    (void)decode_registry_entry(push->payload);
  }
  if (v.is_error()) (void)parse_redirect(v.str);
  std::string why;
  (void)parse_cluster_slots(v, "127.0.0.1", &why);
  for (const auto& e : v.elements)
    if (e.type == RespType::String) (void)parse_message(e.str);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  RespReader reader(RespLimits{1024, 1 << 20});
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    if (!reader.feed(bytes.substr(at, chunk))) break;
    while (auto v = reader.next()) inspect(*v);
    if (reader.failed()) break;
  }
  (void)parse_message(bytes);
  (void)parse_redirect(bytes);
  (void)decode_registry_entry(bytes);
  return 0;
}
