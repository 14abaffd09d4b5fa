// TokenBucket: the core token bucket with a monotonic clock. GIL-serialised.
#include <nanobind/stl/optional.h>

#include <cmath>

#include "exports.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/token_bucket.hpp"

namespace wse::py {

namespace {

std::int64_t now_ns() { return static_cast<std::int64_t>(util::monotonic_ns()); }

util::TokenBucket make_bucket(double capacity, double refill_rate, std::optional<double> initial) {
  if (!(capacity > 0) || !std::isfinite(capacity))
    throw InvalidArgument("capacity must be a positive number");
  if (!(refill_rate >= 0) || !std::isfinite(refill_rate)) throw InvalidArgument("refill_rate must be >= 0");
  const double start = initial.value_or(capacity);
  if (!(start >= 0) || start > capacity)
    throw InvalidArgument("initial_tokens must be between 0 and capacity");
  return util::TokenBucket(capacity, refill_rate, start, now_ns());
}

}  // namespace

void register_rate_limit(nb::module_& m) {
  nb::class_<util::TokenBucket>(
      m, "TokenBucket", "Token bucket rate limiter with continuous time-based refill (monotonic clock).")
      .def(
          "__init__",
          [](util::TokenBucket* self, double capacity, double refill_rate,
             std::optional<double> initial_tokens) {
            new (self) util::TokenBucket(make_bucket(capacity, refill_rate, initial_tokens));
          },
          nb::arg("capacity"), nb::arg("refill_rate"), nb::arg("initial_tokens") = nb::none(),
          "capacity > 0 tokens, refill_rate >= 0 tokens per second, initial_tokens defaults to capacity.")
      .def(
          "acquire",
          [](util::TokenBucket& b, double tokens) {
            if (!(tokens >= 0) || !std::isfinite(tokens)) throw InvalidArgument("tokens must be >= 0");
            return b.try_consume(tokens, now_ns());
          },
          nb::arg("tokens") = 1.0,
          "Takes `tokens` if available and returns True; otherwise leaves the bucket as is.")
      .def_prop_ro(
          "tokens", [](util::TokenBucket& b) { return b.available(now_ns()); },
          "Tokens available now (after refill).")
      .def_prop_ro("capacity", &util::TokenBucket::capacity)
      .def_prop_ro("refill_rate", &util::TokenBucket::refill_rate)
      .def(
          "reset", [](util::TokenBucket& b) { b.reset(now_ns()); }, "Refills to capacity.");
  export_name(m, "TokenBucket");
  export_alias(m, "RustTokenBucket", "TokenBucket");
}

}  // namespace wse::py
