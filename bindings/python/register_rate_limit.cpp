#include "exports.hpp"

namespace wse::py {

void register_rate_limit(nb::module_& m) { (void)m; }

}  // namespace wse::py
