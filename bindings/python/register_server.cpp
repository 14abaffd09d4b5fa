#include "exports.hpp"

namespace wse::py {

void register_server(nb::module_& m) { (void)m; }

}  // namespace wse::py
