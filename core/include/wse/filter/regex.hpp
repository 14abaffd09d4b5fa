#pragma once
// `$regex` for event filters: RE2, so matching time is linear in the input and
// no pattern can stall a server (no backtracking). Search semantics, as in
// MongoDB: the pattern may match anywhere unless anchored with ^ / $.
// Compiled patterns are cached (bounded, thread-safe).
#include <string_view>

namespace wse::filter {

// options: any of "i" (case-insensitive), "m" (multi-line ^ $), "s" (dot matches
// newline). Throws InvalidArgument for an invalid pattern or option.
bool regex_search(std::string_view pattern, std::string_view text, std::string_view options = {});

}  // namespace wse::filter
