// transform_event (wire envelope) and match_event (MongoDB-style filters),
// evaluated directly on Python objects: no conversion of the event.
#include <nanobind/stl/string.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include "convert/buffer.hpp"
#include "convert/json.hpp"
#include "convert/pytypes.hpp"
#include "exports.hpp"
#include "wse/filter/regex.hpp"
#include "wse/protocol/envelope.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/uuid.hpp"

namespace wse::py {

namespace {

// ---- match_event -------------------------------------------------------------

// Nesting of $and/$or/$not accepted in one filter. Evaluation recurses on the C
// stack, so an unbounded filter (say, built from untrusted JSON) could crash the
// process; real filters are a few levels deep.
constexpr int kMaxFilterDepth = 64;

void check_depth(int depth) {
  if (depth > kMaxFilterDepth)
    throw InvalidArgument("filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
}

// Dotted keys ("p.price") split into interned segment strings once per key
// object: filters are usually literals, so the same str object comes back.
const std::vector<nb::object>& path_segments(nb::handle key) {
  // Leaked on purpose: holds Python objects and must never be destroyed after
  // the interpreter is gone.
  static auto* cache = new std::unordered_map<PyObject*, std::pair<nb::object, std::vector<nb::object>>>();
  auto it = cache->find(key.ptr());
  if (it != cache->end()) return it->second.second;
  if (cache->size() > 4096) cache->clear();
  const std::string_view text = str_view(key, "filter key");
  std::vector<nb::object> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    PyObject* s = PyUnicode_FromStringAndSize(part.data(), static_cast<Py_ssize_t>(part.size()));
    if (s == nullptr) throw nb::python_error();
    PyUnicode_InternInPlace(&s);
    parts.push_back(nb::steal(s));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  auto [pos, _] = cache->emplace(key.ptr(), std::make_pair(nb::borrow(key), std::move(parts)));
  return pos->second.second;
}

// The value at a dotted path, or nullptr when absent (borrowed reference).
PyObject* resolve(PyObject* event, nb::handle key) {
  if (PyUnicode_Check(key.ptr()) &&
      PyUnicode_FindChar(key.ptr(), '.', 0, PyUnicode_GET_LENGTH(key.ptr()), 1) < 0) {
    PyObject* v = PyDict_GetItemWithError(event, key.ptr());
    if (v == nullptr && PyErr_Occurred()) throw nb::python_error();
    return v;
  }
  PyObject* cur = event;
  for (const nb::object& part : path_segments(key)) {
    if (PyDict_Check(cur)) {
      cur = PyDict_GetItemWithError(cur, part.ptr());
      if (cur == nullptr) {
        if (PyErr_Occurred()) throw nb::python_error();
        return nullptr;
      }
    } else if (PyList_Check(cur)) {  // numeric segments index lists: "items.0.price"
      const std::string_view s = str_view(part, "path");
      if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos || s.size() > 9)
        return nullptr;
      const auto index = static_cast<Py_ssize_t>(std::stoll(std::string(s)));
      if (index >= PyList_GET_SIZE(cur)) return nullptr;
      cur = PyList_GET_ITEM(cur, index);
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool rich_compare(PyObject* a, PyObject* b, int op) {
  const int r = PyObject_RichCompareBool(a, b, op);
  if (r < 0) {
    // Incomparable values (e.g. str < int) simply do not match.
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      return false;
    }
    throw nb::python_error();
  }
  return r == 1;
}

// str(value) as UTF-8 (what the string operators compare). A str() result with
// lone surrogates raises UnicodeEncodeError (a ValueError) instead of crashing.
std::string text_of(PyObject* v) {
  if (PyUnicode_Check(v)) return std::string(str_view(nb::handle(v), "value"));
  nb::str s = nb::str(nb::handle(v));
  return std::string(str_view(s, "value"));
}

nb::list require_list(nb::handle v, const char* op) {
  if (!PyList_Check(v.ptr()) && !PyTuple_Check(v.ptr()))
    throw InvalidArgument(std::string(op) + " needs a list, got " + py_type_name(v));
  return nb::list(v);
}

bool matches(PyObject* event, nb::handle criteria, int depth);

bool is_operator_dict(nb::handle expected) {
  if (!PyDict_Check(expected.ptr()) || PyDict_GET_SIZE(expected.ptr()) == 0) return false;
  for (auto [k, v] : nb::borrow<nb::dict>(expected)) {
    if (!PyUnicode_Check(k.ptr())) return false;
    const std::string_view key = str_view(k, "operator");
    if (key.empty() || key[0] != '$') return false;
  }
  return true;
}

bool match_operators(PyObject* value, nb::handle ops, int depth) {
  check_depth(depth);
  nb::dict d = nb::borrow<nb::dict>(ops);
  std::string_view regex_options;
  if (d.contains("$options")) regex_options = str_view(nb::object(d["$options"]), "$options");
  for (auto [k, expected] : d) {
    const std::string_view op = str_view(k, "operator");
    PyObject* e = expected.ptr();
    bool ok;
    if (op == "$eq") {
      ok = value == nullptr ? e == Py_None : rich_compare(value, e, Py_EQ);
    } else if (op == "$ne") {
      ok = value == nullptr ? e != Py_None : !rich_compare(value, e, Py_EQ);
    } else if (op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
      const int cmp = op == "$gt" ? Py_GT : op == "$gte" ? Py_GE : op == "$lt" ? Py_LT : Py_LE;
      ok = value != nullptr && rich_compare(value, e, cmp);
    } else if (op == "$in" || op == "$nin") {
      nb::list options = require_list(expected, op == "$in" ? "$in" : "$nin");
      bool found = false;
      if (value != nullptr)
        for (nb::handle item : options)
          if (rich_compare(value, item.ptr(), Py_EQ)) {
            found = true;
            break;
          }
      ok = op == "$in" ? found : !found;
    } else if (op == "$exists") {
      const int want = PyObject_IsTrue(e);
      if (want < 0) throw nb::python_error();
      ok = (value != nullptr) == (want == 1);
    } else if (op == "$regex") {
      if (!PyUnicode_Check(e)) throw InvalidArgument("$regex needs a string pattern");
      ok = value != nullptr && value != Py_None &&
           filter::regex_search(str_view(expected, "$regex"), text_of(value), regex_options);
    } else if (op == "$options") {
      ok = true;  // read together with $regex
    } else if (op == "$contains") {
      if (value == nullptr) {
        ok = false;
      } else if (PyList_Check(value) || PyTuple_Check(value) || PySet_Check(value)) {
        const int r = PySequence_Contains(value, e);
        if (r < 0) throw nb::python_error();
        ok = r == 1;
      } else {
        ok = text_of(value).find(text_of(e)) != std::string::npos;
      }
    } else if (op == "$startswith" || op == "$endswith") {
      if (value == nullptr) {
        ok = false;
      } else {
        const std::string v = text_of(value), x = text_of(e);
        ok = op == "$startswith" ? v.starts_with(x) : v.ends_with(x);
      }
    } else if (op == "$not") {
      ok = !(is_operator_dict(expected) ? match_operators(value, expected, depth + 1)
                                        : (value != nullptr && rich_compare(value, e, Py_EQ)));
    } else {
      throw InvalidArgument("unknown filter operator '" + std::string(op) + "'");
    }
    if (!ok) return false;
  }
  return true;
}

bool matches(PyObject* event, nb::handle criteria, int depth) {
  check_depth(depth);
  if (!PyDict_Check(criteria.ptr())) throw nb::type_error("criteria must be a dict");
  for (auto [key, expected] : nb::borrow<nb::dict>(criteria)) {
    if (!PyUnicode_Check(key.ptr())) throw nb::type_error("filter keys must be str");
    const std::string_view k = str_view(key, "filter key");
    if (k == "$and" || k == "$or") {
      nb::list subs = require_list(expected, k == "$and" ? "$and" : "$or");
      bool ok = k == "$and";
      for (nb::handle sub : subs) {
        const bool m = matches(event, sub, depth + 1);
        if (k == "$and" && !m) {
          ok = false;
          break;
        }
        if (k == "$or" && m) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
      continue;
    }
    if (!k.empty() && k[0] == '$')
      throw InvalidArgument("unknown top-level filter operator '" + std::string(k) + "'");
    PyObject* value = resolve(event, key);
    if (is_operator_dict(expected)) {
      if (!match_operators(value, expected, depth + 1)) return false;
    } else if (value == nullptr) {
      if (!expected.is_none()) return false;
    } else if (!rich_compare(value, expected.ptr(), Py_EQ)) {
      return false;
    }
  }
  return true;
}

// ---- transform_event ---------------------------------------------------------

nb::object get(nb::dict d, const char* key) {
  PyObject* v = PyDict_GetItemString(d.ptr(), key);
  return v == nullptr ? nb::object() : nb::borrow(v);
}

// An event type as text: str as is, bytes as UTF-8 (else Latin-1), UUID/Enum/
// datetime through the JSON-safe conversion, anything else through str().
std::string type_text(nb::handle v) {
  if (PyUnicode_Check(v.ptr())) return std::string(str_view(v, "event_type"));
  ToJsonOptions opts;
  opts.bytes = BytesMode::Text;
  nb::object safe = to_json_safe(v, opts);
  if (PyUnicode_Check(safe.ptr())) return std::string(str_view(safe, "event_type"));
  nb::str s = nb::str(safe);
  return std::string(str_view(s, "event_type"));
}

nb::str py_text(const std::string& s) { return nb::str(s.data(), s.size()); }

nb::object transform_event(nb::handle event_obj, std::int64_t sequence, nb::handle type_map) {
  if (!PyDict_Check(event_obj.ptr())) throw nb::type_error("event must be a dict");
  nb::dict event = nb::borrow<nb::dict>(event_obj);
  // Already a wire envelope: returned as it is.
  if (event.contains("t") && event.contains("p") && event.contains("id") && event.contains("ts") &&
      event.contains("v"))
    return nb::borrow(event_obj);
  nb::dict meta;
  if (nb::object m = get(event, "_metadata"); m.is_valid() && PyDict_Check(m.ptr()))
    meta = nb::borrow<nb::dict>(m);
  auto pick = [&](const char* key) {
    nb::object v = get(meta, key);
    return v.is_valid() && !v.is_none() ? v : get(event, key);
  };
  nb::object raw_type = get(event, "event_type");
  if (!raw_type.is_valid() || raw_type.is_none()) raw_type = get(event, "type");
  const std::string original = raw_type.is_valid() && !raw_type.is_none() ? type_text(raw_type) : "unknown";
  std::string wire_type;
  if (!type_map.is_none()) {
    if (!PyDict_Check(type_map.ptr())) throw nb::type_error("event_type_map must be a dict or None");
    nb::str key = py_text(original);
    PyObject* mapped = PyDict_GetItemWithError(type_map.ptr(), key.ptr());
    if (mapped == nullptr && PyErr_Occurred()) throw nb::python_error();
    if (mapped != nullptr) wire_type = type_text(nb::handle(mapped));
  }
  if (wire_type.empty()) {
    wire_type = original;
    for (char& c : wire_type)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  ToJsonOptions opts;
  opts.bytes = BytesMode::Text;
  opts.objects_as_dict = true;
  nb::dict out;
  out["t"] = py_text(wire_type);
  // Payload: event["payload"] when it is a dict, else the event minus bookkeeping.
  nb::object payload = get(event, "payload");
  nb::dict p;
  if (payload.is_valid() && PyDict_Check(payload.ptr())) {
    p = nb::borrow<nb::dict>(to_json_safe(payload, opts));
  } else {
    for (auto [k, v] : event) {
      if (PyUnicode_Check(k.ptr()) && str_view(k, "key") == "_metadata") continue;
      p[k] = to_json_safe(v, opts);
    }
  }
  if (!p.contains("event_type") && event.contains("type"))
    p["event_type"] = to_json_safe(event["type"], opts);
  out["p"] = p;
  nb::object id = pick("event_id");
  if (!id.is_valid() || id.is_none()) id = get(event, "id");
  if (id.is_valid() && !id.is_none()) {
    out["id"] = to_json_safe(id, opts);
  } else {
    const auto u = util::uuid7();
    out["id"] = nb::str(u.data(), u.size());
  }
  nb::object ts = pick("timestamp");
  out["ts"] = ts.is_valid() && !ts.is_none() ? to_json_safe(ts, opts)
                                             : nb::object(nb::str(util::iso8601_us(util::unix_us()).c_str()));
  out["seq"] = sequence;
  out["v"] = 1;
  if (wire_type != original) out["original_event_type"] = py_text(original);
  if (nb::object cid = pick("correlation_id"); cid.is_valid() && !cid.is_none())
    out["cid"] = to_json_safe(cid, opts);
  if (nb::object pri = pick("priority"); pri.is_valid() && !pri.is_none())
    out["pri"] = to_json_safe(pri, opts);
  if (nb::object trace = pick("trace_id"); trace.is_valid() && !trace.is_none())
    out["trace_id"] = to_json_safe(trace, opts);
  return out;
}

}  // namespace

void register_events(nb::module_& m) {
  m.def(
      "match_event",
      [](nb::handle event, nb::handle criteria) {
        if (!PyDict_Check(event.ptr())) throw nb::type_error("event must be a dict");
        return matches(event.ptr(), criteria, 0);
      },
      nb::arg("event"), nb::arg("criteria"),
      nb::sig("def match_event(event: dict[str, typing.Any], criteria: dict[str, typing.Any]) -> bool"),
      "MongoDB-style filter: dotted paths (list indexes allowed), implicit AND, $and/$or, and the\n"
      "operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (RE2, search, $options i/m/s)\n"
      "$contains $startswith $endswith $not. Incomparable values do not match; an unknown operator,\n"
      "a non-list $in/$nin/$and/$or or an invalid regex raises ValueError.");
  m.def("transform_event", &transform_event, nb::arg("event"), nb::arg("sequence"),
        nb::arg("event_type_map") = nb::none(),
        nb::sig("def transform_event(event: dict[str, typing.Any], sequence: int, "
                "event_type_map: dict[str, str] | None = None) -> dict[str, typing.Any]"),
        "Wraps a domain event in the wire envelope: t (mapped or lower-cased type), p (JSON-safe\n"
        "payload), id (event_id or a new UUIDv7), ts (ISO-8601 UTC), seq, v=1, original_event_type when\n"
        "mapped, cid/pri/trace_id when given (also from _metadata). Envelopes are returned unchanged.");
  for (const char* name : {"match_event", "transform_event"}) {
    export_name(m, name);
    export_alias(m, (std::string("rust_") + name).c_str(), name);
  }
}

}  // namespace wse::py
