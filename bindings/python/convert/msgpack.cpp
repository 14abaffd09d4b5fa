#include "convert/msgpack.hpp"

#include <msgpack.h>

#include <string>

#include "convert/buffer.hpp"
#include "convert/pytypes.hpp"

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
    } else if (PyUnicode_Check(o)) {
      str(str_view(obj, "value"));
    } else if (PyObject_IsInstance(o, t.enum_base) == 1) {
      value(obj.attr("value"), depth + 1);
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

nb::object convert(const msgpack_object& o) {
  switch (o.type) {
    case MSGPACK_OBJECT_NIL:
      return nb::none();
    case MSGPACK_OBJECT_BOOLEAN:
      return nb::borrow(o.via.boolean ? Py_True : Py_False);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      return nb::steal(PyLong_FromUnsignedLongLong(o.via.u64));
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      return nb::steal(PyLong_FromLongLong(o.via.i64));
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      return nb::steal(PyFloat_FromDouble(o.via.f64));
    case MSGPACK_OBJECT_STR: {
      PyObject* s = PyUnicode_DecodeUTF8(o.via.str.ptr, static_cast<Py_ssize_t>(o.via.str.size), "strict");
      if (s == nullptr) {
        PyErr_Clear();
        throw nb::value_error("msgpack str is not valid UTF-8");
      }
      return nb::steal(s);
    }
    case MSGPACK_OBJECT_BIN:
      return nb::steal(PyBytes_FromStringAndSize(o.via.bin.ptr, static_cast<Py_ssize_t>(o.via.bin.size)));
    case MSGPACK_OBJECT_EXT:
      return nb::steal(PyBytes_FromStringAndSize(o.via.ext.ptr, static_cast<Py_ssize_t>(o.via.ext.size)));
    case MSGPACK_OBJECT_ARRAY: {
      PyObject* list = PyList_New(static_cast<Py_ssize_t>(o.via.array.size));
      if (list == nullptr) throw nb::python_error();
      nb::object result = nb::steal(list);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        PyList_SET_ITEM(list, i, convert(o.via.array.ptr[i]).release().ptr());
      }
      return result;
    }
    case MSGPACK_OBJECT_MAP: {
      nb::dict d;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        nb::object k = convert(o.via.map.ptr[i].key);
        nb::object v = convert(o.via.map.ptr[i].val);
        if (PyDict_SetItem(d.ptr(), k.ptr(), v.ptr()) != 0) {
          PyErr_Clear();
          throw nb::value_error("msgpack map key is not hashable in Python");
        }
      }
      return d;
    }
  }
  throw nb::value_error("unknown msgpack object type");
}

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
  msgpack_unpacked result;
  msgpack_unpacked_init(&result);
  size_t offset = 0;
  const msgpack_unpack_return ret = msgpack_unpack_next(&result, data.data(), data.size(), &offset);
  struct Guard {
    msgpack_unpacked* r;
    ~Guard() { msgpack_unpacked_destroy(r); }
  } guard{&result};
  if (ret == MSGPACK_UNPACK_CONTINUE) throw nb::value_error("truncated msgpack data");
  if (ret != MSGPACK_UNPACK_SUCCESS) throw nb::value_error("invalid msgpack data");
  if (offset != data.size()) throw nb::value_error("extra data after the msgpack object");
  return convert(result.data);
}

}  // namespace wse::py
