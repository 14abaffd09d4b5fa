#include "convert/collector.hpp"

namespace wse::py {

thread_local CollectorPause* CollectorPause::active_ = nullptr;

CollectorPause::CollectorPause() : outer_(active_), was_enabled_(PyGC_Disable() != 0) { active_ = this; }

CollectorPause::~CollectorPause() {
  active_ = outer_;
  if (was_enabled_) PyGC_Enable();
}

CollectorPause::Resume::Resume() : pause(active_) {
  // Of nested pauses only the outermost found the collector on.
  while (pause != nullptr && !pause->was_enabled_) pause = pause->outer_;
  if (pause != nullptr) PyGC_Enable();
}

CollectorPause::Resume::~Resume() {
  if (pause == nullptr || !pause->was_enabled_) return;
  // Someone disabled the collector while it ran (gc.disable() from Python code
  // or another thread): that is the application's choice, keep it at the end.
  if (PyGC_Disable() == 0) pause->was_enabled_ = false;
}

}  // namespace wse::py
