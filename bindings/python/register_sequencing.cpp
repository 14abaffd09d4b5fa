#include "exports.hpp"

namespace wse::py {

void register_sequencing(nb::module_& m) { (void)m; }

}  // namespace wse::py
