#include "convert/buffer.hpp"

#include <optional>
#include <string>

#include "convert/pytypes.hpp"

namespace nb = nanobind;

namespace wse::py {

BytesView::BytesView(nb::handle obj, const char* what) {
  PyObject* o = obj.ptr();
  if (PyBytes_Check(o)) {
    view_ = {PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))};
    return;
  }
  if (PyObject_GetBuffer(o, &buffer_, PyBUF_SIMPLE) != 0) {
    PyErr_Clear();
    throw nb::type_error((std::string(what) + " must be bytes-like, not " + py_type_name(obj)).c_str());
  }
  has_buffer_ = true;
  view_ = {static_cast<const char*>(buffer_.buf), static_cast<std::size_t>(buffer_.len)};
}

BytesView::~BytesView() {
  if (has_buffer_) PyBuffer_Release(&buffer_);
}

std::string_view str_view(nb::handle obj, const char* what) {
  if (!PyUnicode_Check(obj.ptr())) {
    throw nb::type_error((std::string(what) + " must be str, not " + py_type_name(obj)).c_str());
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(obj.ptr(), &size);
  if (data == nullptr) throw nb::python_error();
  return {data, static_cast<std::size_t>(size)};
}

TextOrBytes::TextOrBytes(nb::handle obj, const char* what) {
  if (PyUnicode_Check(obj.ptr())) {
    view_ = str_view(obj, what);
    is_text_ = true;
    return;
  }
  if (PyBytes_Check(obj.ptr()) || PyByteArray_Check(obj.ptr()) || PyMemoryView_Check(obj.ptr())) {
    bytes_.emplace(obj, what);
    view_ = bytes_->view();
    return;
  }
  throw nb::type_error((std::string(what) + " must be str or bytes, not " + py_type_name(obj)).c_str());
}

}  // namespace wse::py
