#pragma once
// Topic globs: '*' matches any run of bytes (including none and ':'), '?' exactly
// one byte. No character classes or escapes. Pure; thread-safe.
// Shared by the topic index, the Redis bridge and the match vectors in
// spec/vectors/globs.json.
#include <string_view>

namespace wse::util {

// True when the topic contains a wildcard and must be treated as a pattern.
bool is_glob(std::string_view topic) noexcept;

// Greedy match with backtracking to the last '*': O(len(pattern) * len(text))
// in the worst case, linear for the usual one or two stars.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace wse::util
