#include "exports.hpp"

namespace wse::py {

void register_crypto(nb::module_& m) { (void)m; }

}  // namespace wse::py
