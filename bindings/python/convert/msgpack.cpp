#include "convert/msgpack.hpp"

#include <msgpack.h>

#include <cstdint>
#include <string>
#include <vector>

#include "convert/buffer.hpp"
#include "convert/pytypes.hpp"
#include "wse/compression/msgpack_reader.hpp"
#include "wse/util/errors.hpp"

namespace nb = nanobind;

namespace wse::py {
namespace {

int append_to_string(void* data, const char* buf, size_t len) {
  static_cast<std::string*>(data)->append(buf, len);
  return 0;
}

class Packer {
 public:
  Packer(std::string& out, const ToMsgpackOptions& opt) : opt_(opt) {
    msgpack_packer_init(&pk_, &out, append_to_string);
  }

  void value(nb::handle obj, int depth) {
    if (depth > opt_.max_depth) {
      throw nb::value_error("msgpack nesting too deep (or a circular reference)");
    }
    PyObject* o = obj.ptr();
    const PyTypes& t = py_types();
    if (o == Py_None) {
      msgpack_pack_nil(&pk_);
    } else if (o == Py_True) {
      msgpack_pack_true(&pk_);
    } else if (o == Py_False) {
      msgpack_pack_false(&pk_);
    } else if (PyUnicode_CheckExact(o)) {
      str(str_view(obj, "value"));
    } else if (PyLong_CheckExact(o)) {  // exact types first: no isinstance() lookups on the hot path
      integer(obj);
    } else if (PyFloat_CheckExact(o)) {
      msgpack_pack_double(&pk_, PyFloat_AS_DOUBLE(o));
    } else if (PyDict_CheckExact(o)) {
      dict(obj, depth);
    } else if (PyObject_IsInstance(o, t.enum_base) == 1) {  // before str/int: StrEnum, IntEnum
      value(obj.attr("value"), depth + 1);
    } else if (PyUnicode_Check(o)) {
      str(str_view(obj, "value"));
    } else if (PyLong_Check(o)) {
      integer(obj);
    } else if (PyFloat_Check(o)) {
      msgpack_pack_double(&pk_, PyFloat_AsDouble(o));
    } else if (PyDict_Check(o)) {
      dict(obj, depth);
    } else if (PyList_Check(o) || PyTuple_Check(o)) {
      msgpack_pack_array(&pk_, static_cast<size_t>(PySequence_Fast_GET_SIZE(o)));
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(o); ++i) {
        nb::object item = nb::borrow(PySequence_Fast_GET_ITEM(o, i));
        value(item, depth + 1);
      }
    } else if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) {
      BytesView v(obj, "value");
      msgpack_pack_bin(&pk_, v.view().size());
      msgpack_pack_bin_body(&pk_, v.view().data(), v.view().size());
    } else if (PyObject_IsInstance(o, t.uuid) == 1 || PyObject_IsInstance(o, t.decimal) == 1) {
      nb::str s = nb::str(obj);
      str(str_view(s, "value"));
    } else if (PyObject_IsInstance(o, t.datetime) == 1 || PyObject_IsInstance(o, t.date) == 1 ||
               PyObject_IsInstance(o, t.time) == 1 || nb::hasattr(obj, "isoformat")) {
      nb::object s = obj.attr("isoformat")();
      str(str_view(s, "value"));
    } else if (PyAnySet_Check(o)) {
      nb::object as_list = nb::steal(PySequence_List(o));
      if (!as_list.is_valid()) throw nb::python_error();
      value(as_list, depth);
    } else if (opt_.objects_as_dict && nb::hasattr(obj, "__dict__")) {
      dict(obj.attr("__dict__"), depth);
    } else if (opt_.lenient) {
      nb::str s = nb::str(obj);
      str(str_view(s, "value"));
    } else {
      throw nb::type_error(("Object of type " + py_type_name(obj) + " is not msgpack serializable").c_str());
    }
  }

 private:
  void str(std::string_view s) {
    msgpack_pack_str(&pk_, s.size());
    msgpack_pack_str_body(&pk_, s.data(), s.size());
  }

  void integer(nb::handle obj) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow == 0) {
      if (v == -1 && PyErr_Occurred()) throw nb::python_error();
      msgpack_pack_int64(&pk_, v);
      return;
    }
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(obj.ptr());
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) {
        msgpack_pack_uint64(&pk_, u);
        return;
      }
      PyErr_Clear();
    }
    // Wider than 64 bits: msgpack has no such integer; send its decimal digits.
    nb::str s = nb::str(obj);
    str(str_view(s, "value"));
  }

  void dict(nb::handle obj, int depth) {
    PyObject* o = obj.ptr();
    msgpack_pack_map(&pk_, static_cast<size_t>(PyDict_Size(o)));
    Py_ssize_t pos = 0;
    PyObject *k = nullptr, *v = nullptr;
    while (PyDict_Next(o, &pos, &k, &v)) {
      nb::object kk = nb::borrow(k), vv = nb::borrow(v);
      value(kk, depth + 1);
      value(vv, depth + 1);
    }
  }

  msgpack_packer pk_{};
  const ToMsgpackOptions& opt_;
};

// Builds Python objects from the reader's events (wse/compression/msgpack_reader.hpp,
// which enforces depth and size limits). An explicit stack: no recursion.
class PyBuilder {
 public:
  void nil() { put(nb::none()); }
  void boolean(bool v) { put(nb::borrow(v ? Py_True : Py_False)); }
  void uint(std::uint64_t v) { put(checked(PyLong_FromUnsignedLongLong(v))); }
  void sint(std::int64_t v) { put(checked(PyLong_FromLongLong(v))); }
  void f64(double v) { put(checked(PyFloat_FromDouble(v))); }
  void str(std::string_view v) {
    PyObject* s = PyUnicode_DecodeUTF8(v.data(), static_cast<Py_ssize_t>(v.size()), "strict");
    if (s == nullptr) {
      PyErr_Clear();
      throw nb::value_error("msgpack str is not valid UTF-8");
    }
    put(nb::steal(s));
  }
  void bin(std::string_view v) { put(bytes(v)); }
  void ext(std::int8_t, std::string_view v) { put(bytes(v)); }
  void begin_array(std::uint32_t n) {
    stack_.push_back(Frame{checked(PyList_New(static_cast<Py_ssize_t>(n))), false, 0, nb::object()});
  }
  void begin_map(std::uint32_t) { stack_.push_back(Frame{nb::dict(), true, 0, nb::object()}); }
  void end_array() { close(); }
  void end_map() { close(); }

  nb::object take() { return std::move(result_); }

 private:
  struct Frame {
    nb::object container;
    bool is_map;
    Py_ssize_t next;  // arrays: index of the next item
    nb::object key;   // maps: the key waiting for its value
  };

  static nb::object checked(PyObject* o) {
    if (o == nullptr) throw nb::python_error();
    return nb::steal(o);
  }
  static nb::object bytes(std::string_view v) {
    return checked(PyBytes_FromStringAndSize(v.data(), static_cast<Py_ssize_t>(v.size())));
  }
  void close() {
    nb::object done = std::move(stack_.back().container);
    stack_.pop_back();
    put(std::move(done));
  }
  void put(nb::object v) {
    if (stack_.empty()) {
      result_ = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    if (!f.is_map) {
      PyList_SET_ITEM(f.container.ptr(), f.next++, v.release().ptr());
    } else if (!f.key.is_valid()) {
      f.key = std::move(v);
    } else {
      const int rc = PyDict_SetItem(f.container.ptr(), f.key.ptr(), v.ptr());
      f.key = nb::object();
      if (rc != 0) {
        PyErr_Clear();
        throw nb::value_error("msgpack map key is not hashable in Python");
      }
    }
  }

  std::vector<Frame> stack_;
  nb::object result_;
};

}  // namespace

void to_msgpack(nb::handle obj, std::string& out, const ToMsgpackOptions& options) {
  Packer(out, options).value(obj, 0);
}

std::string to_msgpack(nb::handle obj, const ToMsgpackOptions& options) {
  std::string out;
  to_msgpack(obj, out, options);
  return out;
}

nb::object from_msgpack(std::string_view data) {
  PyBuilder builder;
  try {
    compression::read_msgpack(data, builder);
  } catch (const InvalidArgument& e) {
    throw nb::value_error(e.what());
  }
  return builder.take();
}

}  // namespace wse::py
