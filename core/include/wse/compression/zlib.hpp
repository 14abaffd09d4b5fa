#pragma once
// zlib streams (RFC 1950), the body of C: frames. Pure and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>

namespace wse::compression {

// Default cap on inflated output for the Python API (decompression bombs).
inline constexpr std::size_t kDefaultMaxDecompressedSize = 64u << 20;

// level 0..9 (-1 = zlib's default). Throws InvalidArgument for other levels.
std::string zlib_compress(std::string_view data, int level);
// Throws LimitExceeded when the output would exceed `max_output`, InvalidArgument
// for corrupt or truncated input (with zlib's reason).
std::string zlib_decompress(std::string_view data, std::size_t max_output);

}  // namespace wse::compression
