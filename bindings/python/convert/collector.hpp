#pragma once
// Pausing CPython's cyclic garbage collector while native code builds a large
// batch of Python objects that are all reachable from the result (drain_inbound).
// A collection triggered by those allocations can free none of them: it only
// traverses the batch built so far and moves it into an older generation, whose
// own collections then come more often. Allocations made during a pause still
// count, so the collector runs at the first allocation after it, as usual.
#include <nanobind/nanobind.h>

#include <utility>

namespace wse::py {

class CollectorPause {
 public:
  CollectorPause();  // GIL held
  ~CollectorPause();
  CollectorPause(const CollectorPause&) = delete;
  CollectorPause& operator=(const CollectorPause&) = delete;

  // Runs `f` (which may run Python code, and so let other threads take the GIL)
  // with the collector as the application set it, then pauses it again. A pause
  // must not leak into code that can observe or change gc.isenabled().
  template <class F>
  static decltype(auto) resumed(F&& f) {
    const Resume r;
    return std::forward<F>(f)();
  }

 private:
  struct Resume {
    Resume();
    ~Resume();
    CollectorPause* pause;
  };
  static thread_local CollectorPause* active_;
  CollectorPause* outer_;
  bool was_enabled_;
};

}  // namespace wse::py
