#include "exports.hpp"

namespace wse::py {

void register_events(nb::module_& m) { (void)m; }

}  // namespace wse::py
