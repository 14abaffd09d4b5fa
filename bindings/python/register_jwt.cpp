#include "exports.hpp"

namespace wse::py {

void register_jwt(nb::module_& m) { (void)m; }

}  // namespace wse::py
