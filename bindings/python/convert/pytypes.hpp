#pragma once
// Cached references to the standard-library classes the converters recognise.
// Looked up once (GIL held) and kept for the life of the process.
#include <nanobind/nanobind.h>

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

}  // namespace wse::py
