#include "convert/json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "convert/buffer.hpp"
#include "convert/collector.hpp"
#include "convert/pytypes.hpp"
#include "wse/util/json_writer.hpp"

namespace nb = nanobind;

namespace wse::py {
namespace {

[[noreturn]] void not_serializable(nb::handle obj) {
  throw nb::type_error(("Object of type " + py_type_name(obj) + " is not JSON serializable").c_str());
}

// Appends str(obj) (or obj.isoformat()) as a JSON string.
void append_py_str(std::string& out, nb::handle obj) {
  nb::str s = nb::str(obj);
  util::append_json_string(out, str_view(s, "value"));
}

void append_call_str(std::string& out, nb::handle obj, const char* method) {
  nb::object r = obj.attr(method)();
  util::append_json_string(out, str_view(r, "value"));
}

void append_bytes(std::string& out, nb::handle obj, BytesMode mode) {
  BytesView v(obj, "value");
  std::string_view b = v.view();
  if (mode == BytesMode::Hex) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char ch : b) {
      const auto c = static_cast<unsigned char>(ch);
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
    out.push_back('"');
    return;
  }
  if (mode == BytesMode::Reject) not_serializable(obj);
  PyObject* text = PyUnicode_DecodeUTF8(b.data(), static_cast<Py_ssize_t>(b.size()), "strict");
  if (text == nullptr) {
    PyErr_Clear();
    text = PyUnicode_DecodeLatin1(b.data(), static_cast<Py_ssize_t>(b.size()), "strict");
    if (text == nullptr) throw nb::python_error();
  }
  nb::object t = nb::steal(text);
  util::append_json_string(out, str_view(t, "value"));
}

void append_int(std::string& out, PyObject* o) {
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0) {
    if (v == -1 && PyErr_Occurred()) throw nb::python_error();
    util::append_json_int(out, v);
    return;
  }
  // Wider than 64 bits: JSON numbers have no width limit; use Python's own digits.
  nb::object s = nb::steal(PyObject_Str(o));
  if (!s.is_valid()) throw nb::python_error();
  out.append(str_view(s, "int"));
}

class Writer {
 public:
  Writer(std::string& out, const ToJsonOptions& opt) : out_(out), opt_(opt) {}

  void value(nb::handle obj, int depth) {
    if (depth > opt_.max_depth) {
      throw nb::value_error("JSON nesting too deep (or a circular reference)");
    }
    PyObject* o = obj.ptr();
    if (PyUnicode_CheckExact(o)) {
      util::append_json_string(out_, str_view(obj, "value"));
    } else if (o == Py_None) {
      out_.append("null");
    } else if (o == Py_True) {
      out_.append("true");
    } else if (o == Py_False) {
      out_.append("false");
    } else if (PyLong_CheckExact(o)) {
      append_int(out_, o);
    } else if (PyFloat_CheckExact(o)) {
      util::append_json_double(out_, PyFloat_AS_DOUBLE(o));
    } else if (PyDict_Check(o)) {
      dict(obj, depth);
    } else if (PyList_Check(o) || PyTuple_Check(o)) {
      sequence(obj, depth);
    } else {
      other(obj, depth);
    }
  }

 private:
  void sequence(nb::handle obj, int depth) {
    // Re-read size and item each step and hold a reference: converting an item may
    // run Python code (isoformat, __str__) that mutates the container.
    PyObject* seq = obj.ptr();
    out_.push_back('[');
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
      if (i) out_.push_back(',');
      nb::object item = nb::borrow(PySequence_Fast_GET_ITEM(seq, i));
      value(item, depth + 1);
    }
    out_.push_back(']');
  }

  void key(nb::handle k) {
    PyObject* o = k.ptr();
    if (PyUnicode_Check(o)) {
      util::append_json_string(out_, str_view(k, "key"));
    } else if (o == Py_None) {
      out_.append("\"null\"");
    } else if (o == Py_True) {
      out_.append("\"true\"");
    } else if (o == Py_False) {
      out_.append("\"false\"");
    } else if (PyLong_Check(o) || PyFloat_Check(o)) {
      std::string tmp;
      if (PyLong_Check(o)) {
        append_int(tmp, o);
      } else {
        util::append_json_double(tmp, PyFloat_AS_DOUBLE(o));
      }
      util::append_json_string(out_, tmp);
    } else if (PyObject_IsInstance(o, py_types().enum_base) == 1 ||
               PyObject_IsInstance(o, py_types().uuid) == 1) {
      append_py_str(out_,
                    PyObject_IsInstance(o, py_types().enum_base) == 1 ? nb::handle(k.attr("value")) : k);
    } else {
      throw nb::type_error(("keys must be str, int, float, bool or None, not " + py_type_name(k)).c_str());
    }
  }

  void dict(nb::handle obj, int depth) {
    PyObject* o = obj.ptr();
    out_.push_back('{');
    if (!opt_.sort_keys) {
      Py_ssize_t pos = 0;
      PyObject *k = nullptr, *v = nullptr;
      bool first = true;
      while (PyDict_Next(o, &pos, &k, &v)) {
        if (!first) out_.push_back(',');
        first = false;
        nb::object kk = nb::borrow(k), vv = nb::borrow(v);
        key(kk);
        out_.push_back(':');
        value(vv, depth + 1);
      }
    } else {
      std::vector<std::pair<std::string, nb::object>> items;
      items.reserve(static_cast<std::size_t>(PyDict_Size(o)));
      Py_ssize_t pos = 0;
      PyObject *k = nullptr, *v = nullptr;
      while (PyDict_Next(o, &pos, &k, &v)) {
        std::string ks;
        std::swap(ks, out_);
        try {
          key(k);
        } catch (...) {
          std::swap(ks, out_);
          throw;
        }
        std::swap(ks, out_);
        items.emplace_back(std::move(ks), nb::borrow(v));
      }
      // Sorting the escaped literals orders by code point, as json.dumps(sort_keys=True).
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      bool first = true;
      for (auto& [ks, v2] : items) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(ks);
        out_.push_back(':');
        value(v2, depth + 1);
      }
    }
    out_.push_back('}');
  }

  void other(nb::handle obj, int depth) {
    PyObject* o = obj.ptr();
    const PyTypes& t = py_types();
    if (PyObject_IsInstance(o, t.enum_base) == 1) {
      value(obj.attr("value"), depth + 1);
    } else if (PyLong_Check(o)) {  // int subclasses (e.g. IntFlag handled above)
      append_int(out_, o);
    } else if (PyFloat_Check(o)) {
      util::append_json_double(out_, PyFloat_AsDouble(o));
    } else if (PyUnicode_Check(o)) {
      util::append_json_string(out_, str_view(obj, "value"));
    } else if (PyObject_IsInstance(o, t.uuid) == 1 || PyObject_IsInstance(o, t.decimal) == 1) {
      append_py_str(out_, obj);
    } else if (PyObject_IsInstance(o, t.datetime) == 1 || PyObject_IsInstance(o, t.date) == 1 ||
               PyObject_IsInstance(o, t.time) == 1) {
      append_call_str(out_, obj, "isoformat");
    } else if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) {
      append_bytes(out_, obj, opt_.bytes);
    } else if (PyAnySet_Check(o)) {
      nb::object as_list = nb::steal(PySequence_List(o));
      if (!as_list.is_valid()) throw nb::python_error();
      sequence(as_list, depth);
    } else if (nb::hasattr(obj, "isoformat")) {
      append_call_str(out_, obj, "isoformat");
    } else if (opt_.objects_as_dict && nb::hasattr(obj, "__dict__")) {
      dict(obj.attr("__dict__"), depth);
    } else {
      not_serializable(obj);
    }
  }

  std::string& out_;
  const ToJsonOptions& opt_;
};

// The first min(n, 8) bytes at `p` as a little-endian word, zero-padded, without
// reading past p + n. Fixed-size loads only: a memcpy of a variable length into
// a word is a library call followed by a load the CPU cannot forward from the
// byte stores (it was the most expensive line of the key cache below).
inline std::uint64_t first_bytes(const char* p, std::size_t n) noexcept {
  const auto byte = [p](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]));
  };
  if (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  if (n >= 4) {  // two overlapping 4-byte loads; the overlap holds the same bytes
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return static_cast<std::uint64_t>(lo) | (static_cast<std::uint64_t>(hi) << (8 * (n - 4)));
  }
  if (n == 0) return 0;
  return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
}

// Object keys repeat from message to message ("t", "p", "id", ...): a small
// direct-mapped cache of str objects saves an allocation, a UTF-8 decode and a
// hash per key (a str caches its hash). The entries are NOT interned: since
// Python 3.12 interned strings are immortal, so interning keys chosen by clients
// would grow memory without bound; the cache holds at most kSlots references.
// Only touched with the GIL held. Returns a new reference (nullptr on error).
PyObject* key_object(std::string_view key) {
  constexpr std::size_t kSlots = 512;
  constexpr std::size_t kMaxLen = 30;
  const std::size_t n = key.size();
  if (n > kMaxLen) return str_from_utf8(key, "surrogatepass");
  struct Slot {
    PyObject* obj = nullptr;
    std::uint64_t head = 0;  // the first 8 bytes, zero-padded
    std::uint8_t len = 0;
    char text[kMaxLen];
  };
  static Slot slots[kSlots];
  // Keys are mostly short: the first (and last) 8 bytes as words make the hash
  // and the comparison a few instructions instead of a loop over the bytes.
  const std::uint64_t head = first_bytes(key.data(), n);
  std::uint64_t tail = 0;
  if (n > 8) std::memcpy(&tail, key.data() + n - 8, 8);
  const std::uint64_t h = ((head ^ (tail * 31) ^ n) * 0x9E3779B97F4A7C15ULL) >> 40;
  Slot& slot = slots[h & (kSlots - 1)];
  if (slot.obj != nullptr && slot.len == n && slot.head == head &&
      (n <= 8 || std::memcmp(slot.text + 8, key.data() + 8, n - 8) == 0)) {
    Py_INCREF(slot.obj);
    return slot.obj;
  }
  PyObject* o = str_from_utf8(key, "surrogatepass");
  if (o == nullptr) return nullptr;
  Py_XDECREF(slot.obj);
  Py_INCREF(o);
  slot.obj = o;
  slot.head = head;
  slot.len = static_cast<std::uint8_t>(n);
  std::memcpy(slot.text, key.data(), n);
  return o;
}

nb::object convert_element(simdjson::dom::element el);

nb::object convert_string(std::string_view s) {
  PyObject* r = str_from_utf8(s, "surrogatepass");
  if (r == nullptr) throw nb::python_error();
  return nb::steal(r);
}

nb::object convert_object(simdjson::dom::object obj, TopLevelKeys* top) {
  nb::dict d;
  for (auto field : obj) {
    nb::object k = nb::steal(key_object(field.key));
    if (!k.is_valid()) throw nb::python_error();
    nb::object v;
    if (top != nullptr) {
      // The envelope keys of an inbound message, noted while we pass (the caller
      // normalizes type -> t and payload -> p without looking them up again).
      // The type name repeats from message to message: its str comes from the
      // interned key cache instead of a new object per message.
      const std::string_view key = field.key;
      const bool is_type = key == "t" || key == "type";
      if (key.size() <= 7) {
        top->t |= key == "t";
        top->type |= key == "type";
        top->p |= key == "p";
        top->payload |= key == "payload";
      }
      if (is_type && field.value.type() == simdjson::dom::element_type::STRING) {
        v = nb::steal(key_object(std::string_view(field.value)));
        if (!v.is_valid()) throw nb::python_error();
      }
    }
    if (!v.is_valid()) v = convert_element(field.value);
    if (PyDict_SetItem(d.ptr(), k.ptr(), v.ptr()) != 0) throw nb::python_error();
  }
  return d;
}

nb::object convert_element(simdjson::dom::element el) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::OBJECT:
      return convert_object(simdjson::dom::object(el), nullptr);
    case element_type::ARRAY: {
      simdjson::dom::array arr(el);
      PyObject* list = PyList_New(static_cast<Py_ssize_t>(arr.size()));
      if (list == nullptr) throw nb::python_error();
      nb::object result = nb::steal(list);
      Py_ssize_t i = 0;
      for (auto item : arr) {
        PyList_SET_ITEM(list, i++, convert_element(item).release().ptr());
      }
      return result;
    }
    case element_type::STRING:
      return convert_string(std::string_view(el));
    case element_type::INT64:
      return nb::steal(PyLong_FromLongLong(int64_t(el)));
    case element_type::UINT64:
      return nb::steal(PyLong_FromUnsignedLongLong(uint64_t(el)));
    case element_type::DOUBLE:
      return nb::steal(PyFloat_FromDouble(double(el)));
    case element_type::BOOL:
      return nb::borrow(bool(el) ? Py_True : Py_False);
    case element_type::NULL_VALUE:
      return nb::none();
  }
  return nb::none();
}

// Integers wider than 64 bits are valid JSON that simdjson does not represent:
// Python's parser decides (and raises ValueError if the text is invalid).
nb::object python_json_loads(std::string_view text) {
  nb::object s = nb::steal(PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
  if (!s.is_valid()) throw nb::python_error();
  // Python code: runs with the collector as the application set it.
  return CollectorPause::resumed([&] { return nb::borrow(py_types().json_loads)(s); });
}

[[noreturn]] void invalid_json(simdjson::error_code err) {
  throw nb::value_error((std::string("invalid JSON: ") + simdjson::error_message(err)).c_str());
}

}  // namespace

void to_json(nb::handle obj, std::string& out, const ToJsonOptions& options) {
  Writer(out, options).value(obj, 0);
}

std::string to_json(nb::handle obj, const ToJsonOptions& options) {
  std::string out;
  to_json(obj, out, options);
  return out;
}

namespace {

// Python -> JSON-safe Python, directly: the same result as from_json(to_json(obj))
// (same rules, keys and errors as Writer above) without writing and re-parsing
// text. Values that are already JSON-safe (exact str, int, float, bool, None) are
// returned as the same objects; containers are rebuilt.
class SafeConverter {
 public:
  explicit SafeConverter(const ToJsonOptions& opt) : opt_(opt) {}

  nb::object value(nb::handle obj, int depth) {
    if (depth > opt_.max_depth) throw nb::value_error("JSON nesting too deep (or a circular reference)");
    PyObject* o = obj.ptr();
    if (PyUnicode_CheckExact(o)) {
      (void)str_view(obj, "value");  // must be encodable, as in JSON text
      return nb::borrow(obj);
    }
    if (o == Py_None || o == Py_True || o == Py_False || PyLong_CheckExact(o)) return nb::borrow(obj);
    if (PyFloat_CheckExact(o)) return real(PyFloat_AS_DOUBLE(o), obj);
    if (PyDict_Check(o)) return dict(obj, depth);
    if (PyList_Check(o) || PyTuple_Check(o)) return sequence(obj, depth);
    return other(obj, depth);
  }

 private:
  static nb::object checked(PyObject* r) {
    if (r == nullptr) throw nb::python_error();
    return nb::steal(r);
  }
  static nb::object real(double v, nb::handle same) {
    if (!std::isfinite(v)) return nb::none();
    return same.is_valid() ? nb::borrow(same) : checked(PyFloat_FromDouble(v));
  }
  static nb::object text(nb::handle r) {
    (void)str_view(r, "value");  // a str (TypeError otherwise) that is encodable
    return checked(PyUnicode_FromObject(r.ptr()));
  }
  static nb::object from_text(const std::string& t) {
    return checked(PyUnicode_FromStringAndSize(t.data(), static_cast<Py_ssize_t>(t.size())));
  }

  nb::object sequence(nb::handle obj, int depth) {
    PyObject* seq = obj.ptr();
    nb::list out;
    // Re-read size and item each step: converting may run Python code.
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
      nb::object item = nb::borrow(PySequence_Fast_GET_ITEM(seq, i));
      out.append(value(item, depth + 1));
    }
    return out;
  }

  nb::object key(nb::handle k) {
    PyObject* o = k.ptr();
    if (PyUnicode_Check(o)) return PyUnicode_CheckExact(o) ? (text(k), nb::borrow(k)) : text(k);
    if (o == Py_None) return nb::str("null");
    if (o == Py_True) return nb::str("true");
    if (o == Py_False) return nb::str("false");
    if (PyLong_Check(o) || PyFloat_Check(o)) {
      std::string tmp;
      if (PyLong_Check(o)) {
        append_int(tmp, o);
      } else {
        util::append_json_double(tmp, PyFloat_AS_DOUBLE(o));
      }
      return from_text(tmp);
    }
    if (PyObject_IsInstance(o, py_types().enum_base) == 1) return text(nb::str(k.attr("value")));
    if (PyObject_IsInstance(o, py_types().uuid) == 1) return text(nb::str(k));
    throw nb::type_error(("keys must be str, int, float, bool or None, not " + py_type_name(k)).c_str());
  }

  nb::object dict(nb::handle obj, int depth) {
    nb::dict out;
    Py_ssize_t pos = 0;
    PyObject *k = nullptr, *v = nullptr;
    while (PyDict_Next(obj.ptr(), &pos, &k, &v)) {
      nb::object kk = nb::borrow(k), vv = nb::borrow(v);
      nb::object ck = key(kk);
      nb::object cv = value(vv, depth + 1);
      if (PyDict_SetItem(out.ptr(), ck.ptr(), cv.ptr()) != 0) throw nb::python_error();
    }
    return out;
  }

  nb::object bytes(nb::handle obj) {
    if (opt_.bytes == BytesMode::Reject) not_serializable(obj);
    BytesView v(obj, "value");
    const std::string_view b = v.view();
    if (opt_.bytes == BytesMode::Hex) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      hex.reserve(b.size() * 2);
      for (char ch : b) {
        const auto c = static_cast<unsigned char>(ch);
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 0x0F]);
      }
      return from_text(hex);
    }
    PyObject* r = PyUnicode_DecodeUTF8(b.data(), static_cast<Py_ssize_t>(b.size()), "strict");
    if (r == nullptr) {
      PyErr_Clear();
      r = PyUnicode_DecodeLatin1(b.data(), static_cast<Py_ssize_t>(b.size()), "strict");
    }
    return checked(r);
  }

  nb::object other(nb::handle obj, int depth) {
    PyObject* o = obj.ptr();
    const PyTypes& t = py_types();
    if (PyObject_IsInstance(o, t.enum_base) == 1) return value(obj.attr("value"), depth + 1);
    if (PyLong_Check(o)) return checked(PyNumber_Long(o));
    if (PyFloat_Check(o)) return real(PyFloat_AsDouble(o), nb::handle());
    if (PyUnicode_Check(o)) return text(obj);
    if (PyObject_IsInstance(o, t.uuid) == 1 || PyObject_IsInstance(o, t.decimal) == 1)
      return text(nb::str(obj));
    if (PyObject_IsInstance(o, t.datetime) == 1 || PyObject_IsInstance(o, t.date) == 1 ||
        PyObject_IsInstance(o, t.time) == 1)
      return text(obj.attr("isoformat")());
    if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) return bytes(obj);
    if (PyAnySet_Check(o)) {
      nb::object as_list = checked(PySequence_List(o));
      return sequence(as_list, depth);
    }
    if (nb::hasattr(obj, "isoformat")) return text(obj.attr("isoformat")());
    if (opt_.objects_as_dict && nb::hasattr(obj, "__dict__")) return dict(obj.attr("__dict__"), depth);
    not_serializable(obj);
  }

  const ToJsonOptions& opt_;
};

}  // namespace

nb::object to_json_safe(nb::handle obj, const ToJsonOptions& options) {
  return SafeConverter(options).value(obj, 0);
}

nb::object from_json(simdjson::dom::element element) { return convert_element(element); }

nb::object from_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto err = parser.parse(text.data(), text.size()).get(root);
  if (err == simdjson::NUMBER_ERROR) return python_json_loads(text);
  if (err) invalid_json(err);
  return convert_element(root);
}

simdjson::dom::parser& thread_json_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

nb::object from_json_padded(simdjson::dom::parser& parser, std::string_view text, TopLevelKeys& top) {
  simdjson::dom::element root;
  const auto err = parser.parse(text.data(), text.size(), false).get(root);
  if (err == simdjson::NUMBER_ERROR) {
    top = TopLevelKeys{true, true, true, true};  // not tracked on this path: the caller looks
    return python_json_loads(text);
  }
  if (err) invalid_json(err);
  if (root.type() == simdjson::dom::element_type::OBJECT)
    return convert_object(simdjson::dom::object(root), &top);
  return convert_element(root);
}

}  // namespace wse::py
