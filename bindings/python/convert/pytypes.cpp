#include "convert/pytypes.hpp"

#include <cstring>
#include <string>

#include "wse/protocol/utf8.hpp"

namespace nb = nanobind;

namespace wse::py {

const PyTypes& py_types() {
  // Function-local static: initialised under the GIL on first use, leaked on purpose
  // (module objects outlive any order-of-destruction concerns at interpreter exit).
  static const PyTypes types = [] {
    auto get = [](const char* mod, const char* attr) {
      return nb::object(nb::module_::import_(mod).attr(attr)).release().ptr();
    };
    return PyTypes{get("uuid", "UUID"),     get("datetime", "datetime"), get("datetime", "date"),
                   get("datetime", "time"), get("decimal", "Decimal"),   get("enum", "Enum"),
                   get("json", "loads")};
  }();
  return types;
}

std::string py_type_name(nb::handle obj) { return std::string(nb::type_name(obj.type()).c_str()); }

PyObject* str_from_utf8(std::string_view text, const char* errors) {
  const auto n = static_cast<Py_ssize_t>(text.size());
  if (n <= 1 || !protocol::is_ascii(text)) return PyUnicode_DecodeUTF8(text.data(), n, errors);
  PyObject* s = PyUnicode_New(n, 127);
  if (s != nullptr) std::memcpy(PyUnicode_DATA(s), text.data(), text.size());
  return s;
}

}  // namespace wse::py
