#include "wse/compression/zlib.hpp"

#include <zlib.h>

#include <climits>

#include "wse/util/errors.hpp"

namespace wse::compression {

std::string zlib_compress(std::string_view data, int level) {
  if (level < -1 || level > 9) throw InvalidArgument("compression level must be between 0 and 9 (or -1)");
  if (data.size() > UINT_MAX) throw LimitExceeded("zlib input over 4 GiB");
  uLongf bound = compressBound(static_cast<uLong>(data.size()));
  std::string out(bound, '\0');
  const int rc =
      compress2(reinterpret_cast<Bytef*>(out.data()), &bound, reinterpret_cast<const Bytef*>(data.data()),
                static_cast<uLong>(data.size()), level);
  if (rc != Z_OK) throw OperationFailed("zlib compression failed (code " + std::to_string(rc) + ")");
  out.resize(bound);
  return out;
}

std::string zlib_decompress(std::string_view data, std::size_t max_output) {
  if (data.size() > UINT_MAX) throw LimitExceeded("zlib input over 4 GiB");
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw OperationFailed("zlib inflateInit failed");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  out.resize(std::min<std::size_t>(std::max<std::size_t>(data.size() * 4, 256), max_output + 1));
  std::size_t produced = 0;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > max_output)
        throw LimitExceeded("decompressed data exceeds the limit of " + std::to_string(max_output) +
                            " bytes");
      out.resize(std::min(out.size() * 2, max_output + 1));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, UINT_MAX));
    const uInt before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (produced > max_output)
      throw LimitExceeded("decompressed data exceeds the limit of " + std::to_string(max_output) + " bytes");
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0)
      throw InvalidArgument("truncated zlib data (stream ended early)");
    if (rc == Z_BUF_ERROR) continue;
    throw InvalidArgument(std::string("corrupt zlib data: ") +
                          (zs.msg != nullptr ? zs.msg : "inflate error"));
  }
  if (zs.avail_in != 0) throw InvalidArgument("trailing bytes after the zlib stream");
  out.resize(produced);
  return out;
}

}  // namespace wse::compression
