#pragma once
// Python objects <-> JSON text, at the binding boundary. The GIL must be held.
//
// Python -> JSON handles: None, bool, int (any size), float (NaN/inf -> null),
// str, dict (str/int/float/bool/None keys), list, tuple, set/frozenset (as lists),
// uuid.UUID (str), datetime/date/time (isoformat()), decimal.Decimal (str),
// enum.Enum (its value), bytes per BytesMode, objects with isoformat(), and, when
// asked, other objects through their __dict__. Anything else raises TypeError
// naming the type; nesting deeper than max_depth (or a cycle) raises ValueError.
//
// JSON -> Python uses simdjson; invalid JSON raises ValueError with the reason.
#include <nanobind/nanobind.h>
#include <simdjson.h>

#include <string>
#include <string_view>

namespace wse::py {

enum class BytesMode {
  Hex,     // lowercase hex string (what the original engine's send_event did)
  Text,    // decode as UTF-8, else Latin-1 (transform_event)
  Reject,  // TypeError
};

struct ToJsonOptions {
  bool sort_keys = false;  // JWT claims are serialized with sorted keys
  BytesMode bytes = BytesMode::Hex;
  bool objects_as_dict = false;  // fall back to vars(obj) for unknown objects
  int max_depth = 256;
};

void to_json(nanobind::handle obj, std::string& out, const ToJsonOptions& options = {});
std::string to_json(nanobind::handle obj, const ToJsonOptions& options = {});

// Converts one JSON-safe value (the rules above) to plain Python builtins:
// UUID -> str, datetime -> isoformat str, Enum -> value, tuple -> list, etc.
// Used where a dict must be returned with JSON-safe values (transform_event).
nanobind::object to_json_safe(nanobind::handle obj, const ToJsonOptions& options = {});

nanobind::object from_json(std::string_view text);
nanobind::object from_json(simdjson::dom::element element);

// The inbound path (drain_inbound): one parser per thread, fetched once per batch
// (a thread_local lookup in a shared library is a call), and texts parsed in
// place: `text` must be followed by simdjson::SIMDJSON_PADDING readable bytes
// (transport::InboundBatch guarantees it). `top` reports which envelope keys the
// top-level object had (all true when it could not tell), so the caller renames
// `type`/`payload` without looking them up. String values of `t`/`type` come
// from the interned key cache.
struct TopLevelKeys {
  bool t = false, type = false, p = false, payload = false;
};
simdjson::dom::parser& thread_json_parser();
nanobind::object from_json_padded(simdjson::dom::parser& parser, std::string_view text, TopLevelKeys& top);

}  // namespace wse::py
