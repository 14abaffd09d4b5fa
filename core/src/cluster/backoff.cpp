#include "wse/cluster/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace wse::cluster {

std::chrono::milliseconds Backoff::next_delay(double unit_random) noexcept {
  const double base = static_cast<double>(policy_.initial.count()) *
                      std::pow(policy_.multiplier, static_cast<double>(attempts_));
  const double capped = std::min(base, static_cast<double>(policy_.max.count()));
  // Stop growing the exponent once the cap is reached: no overflow, no inf.
  if (base < static_cast<double>(policy_.max.count())) ++attempts_;
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const double factor = 1.0 - policy_.jitter + 2.0 * policy_.jitter * r;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(capped * factor)));
}

}  // namespace wse::cluster
