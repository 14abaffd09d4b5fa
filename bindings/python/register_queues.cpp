#include "exports.hpp"

namespace wse::py {

void register_queues(nb::module_& m) { (void)m; }

}  // namespace wse::py
