#pragma once
// Python objects <-> MessagePack, at the binding boundary. The GIL must be held.
// Encoding follows the JSON rules of convert/json.hpp, except that bytes become
// msgpack bin and dict keys may be any encodable scalar. Unknown objects become
// their __dict__ when `objects_as_dict`, else str(obj) when `lenient`, else TypeError.
// Decoding (wse/compression/msgpack_reader.hpp: depth and declared-size limits):
// bin and ext become bytes; maps become dicts (an unhashable key raises
// ValueError); invalid, truncated or over-limit data and trailing bytes after
// the object raise ValueError.
#include <nanobind/nanobind.h>

#include <string>
#include <string_view>

namespace wse::py {

struct ToMsgpackOptions {
  bool objects_as_dict = true;
  bool lenient = true;
  int max_depth = 256;
};

void to_msgpack(nanobind::handle obj, std::string& out, const ToMsgpackOptions& options = {});
std::string to_msgpack(nanobind::handle obj, const ToMsgpackOptions& options = {});

nanobind::object from_msgpack(std::string_view data);

}  // namespace wse::py
