// zlib inflate with the decompression-bomb cap (C: frames, decompress()): corrupt
// input is an InvalidArgument, oversized output a LimitExceeded, never more than
// the cap in memory. Compressing the input and inflating it again must round-trip.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "wse/compression/zlib.hpp"
#include "wse/util/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wse::compression;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kCap = 1 << 16;
  try {
    const std::string out = zlib_decompress(input, kCap);
    if (out.size() > kCap) std::abort();
  } catch (const wse::InvalidArgument&) {
  } catch (const wse::LimitExceeded&) {
  }
  const std::string packed = zlib_compress(input, static_cast<int>(size % 10));
  if (zlib_decompress(packed, size) != input) std::abort();
  return 0;
}
