#pragma once
// Cached references to the standard-library classes the converters recognise.
// Looked up once (GIL held) and kept for the life of the process.
#include <nanobind/nanobind.h>

#include <string>
#include <string_view>

namespace wse::py {

struct PyTypes {
  PyObject* uuid;        // uuid.UUID
  PyObject* datetime;    // datetime.datetime
  PyObject* date;        // datetime.date
  PyObject* time;        // datetime.time
  PyObject* decimal;     // decimal.Decimal
  PyObject* enum_base;   // enum.Enum
  PyObject* json_loads;  // json.loads (fallback for integers wider than 64 bits)
};

// GIL must be held. Throws nb::python_error if an import fails.
const PyTypes& py_types();

// Human-readable type name of an object, for error messages.
std::string py_type_name(nanobind::handle obj);

// A new str from UTF-8 bytes (nullptr with a Python error set on failure).
// ASCII, the common case for JSON values, ids and text frames, is one copy into
// PyUnicode_New; anything else (and the 0/1-byte strings CPython caches) goes
// through PyUnicode_DecodeUTF8 with `errors` ("strict", "replace", ...).
PyObject* str_from_utf8(std::string_view text, const char* errors);

}  // namespace wse::py
