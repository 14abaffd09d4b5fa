#include "exports.hpp"

namespace wse::py {

void register_compression(nb::module_& m) { (void)m; }

}  // namespace wse::py
