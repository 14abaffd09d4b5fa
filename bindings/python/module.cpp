// Entry point of wse_server._wse_accel: creates the module and lets each concern
// register itself. Nothing else belongs here.
#include "exports.hpp"

namespace wse::py {

void export_name(nb::module_& m, const char* name) {
  if (!nb::hasattr(m, "__all__")) m.attr("__all__") = nb::list();
  nb::list all = nb::borrow<nb::list>(m.attr("__all__"));
  all.append(nb::str(name));
}

void export_alias(nb::module_& m, const char* alias, const char* target) {
  m.attr(alias) = m.attr(target);
  export_name(m, alias);
}

}  // namespace wse::py

NB_MODULE(_wse_accel, m) {
  using namespace wse::py;
  m.doc() = "Native core of WSE (private; import from wse_server instead).";
  m.attr("__all__") = nb::list();
  register_queues(m);
  register_rate_limit(m);
  register_sequencing(m);
  register_compression(m);
  register_crypto(m);
  register_jwt(m);
  register_events(m);
  register_server(m);
}
