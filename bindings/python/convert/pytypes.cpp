#include "convert/pytypes.hpp"

#include <string>

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

}  // namespace wse::py
