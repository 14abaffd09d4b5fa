// compress / decompress / should_compress and CompressionManager (zlib +
// msgpack). GIL held throughout except for large zlib jobs on immutable bytes.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>

#include "convert/buffer.hpp"
#include "convert/json.hpp"
#include "convert/msgpack.hpp"
#include "exports.hpp"
#include "wse/compression/zlib.hpp"
#include "wse/util/errors.hpp"

namespace wse::py {

namespace {

constexpr std::size_t kReleaseGilAbove = 64 * 1024;

nb::bytes to_bytes(const std::string& s) { return nb::bytes(s.data(), s.size()); }

std::string compress_view(const BytesView& v, int level) {
  if (v.view().size() > kReleaseGilAbove && v.is_bytes()) {
    nb::gil_scoped_release release;
    return compression::zlib_compress(v.view(), level);
  }
  return compression::zlib_compress(v.view(), level);
}

std::string decompress_view(const BytesView& v, std::size_t max_size) {
  if (v.view().size() > kReleaseGilAbove && v.is_bytes()) {
    nb::gil_scoped_release release;
    return compression::zlib_decompress(v.view(), max_size);
  }
  return compression::zlib_decompress(v.view(), max_size);
}

// Runs decode(); on a ValueError (raised by nanobind or by Python) returns nullopt
// and stores the reason. Other exceptions propagate.
template <class F>
std::optional<nb::object> try_decode(F&& decode, std::string& why) {
  try {
    return decode();
  } catch (nb::builtin_exception& e) {
    if (e.type() != nb::exception_type::value_error) throw;
    why = e.what();
  } catch (nb::python_error& e) {
    if (!e.matches(PyExc_ValueError)) throw;
    nb::str text = nb::str(e.value());
    const char* c = text.c_str();
    if (c == nullptr) PyErr_Clear();
    why = c != nullptr ? c : "ValueError";
  }
  return std::nullopt;
}

std::size_t size_limit(std::int64_t v) {
  if (v <= 0) throw InvalidArgument("max_size must be a positive number of bytes");
  return static_cast<std::size_t>(v);
}

class CompressionManager {
 public:
  CompressionManager(std::int64_t threshold, int level, std::int64_t max_decompressed_size)
      : threshold_(threshold), level_(level), max_size_(size_limit(max_decompressed_size)) {
    if (threshold < 0) throw InvalidArgument("threshold must be >= 0");
    if (level < 0 || level > 9) throw InvalidArgument("compression_level must be between 0 and 9");
  }

  bool should_compress(nb::handle data) const {
    BytesView v(data, "data");
    return static_cast<std::int64_t>(v.view().size()) > threshold_;
  }

  nb::bytes compress(nb::handle data, std::optional<int> level) {
    BytesView v(data, "data");
    try {
      std::string out = compress_view(v, level.value_or(level_));
      ++compressed_;
      const auto saved = static_cast<std::int64_t>(v.view().size()) - static_cast<std::int64_t>(out.size());
      bytes_saved_ += saved;
      return to_bytes(out);
    } catch (...) {
      ++compress_failures_;
      throw;
    }
  }

  nb::bytes decompress(nb::handle data) {
    BytesView v(data, "data");
    try {
      std::string out = decompress_view(v, max_size_);
      ++decompressed_;
      return to_bytes(out);
    } catch (...) {
      ++decompress_failures_;
      throw;
    }
  }

  nb::bytes pack_msgpack(nb::handle obj) { return to_bytes(to_msgpack(obj)); }
  nb::object unpack_msgpack(nb::handle data) {
    BytesView v(data, "data");
    return from_msgpack(v.view());
  }

  nb::bytes pack_event(nb::handle event, bool use_msgpack) {
    if (use_msgpack) return to_bytes(to_msgpack(event));
    ToJsonOptions opts;
    opts.bytes = BytesMode::Text;
    opts.objects_as_dict = true;
    return to_bytes(to_json(event, opts));
  }

  // msgpack with JSON fallback: with is_msgpack, data that is not one complete
  // msgpack object is tried as JSON, so a JSON event reaching a msgpack reader
  // still decodes (JSON objects and arrays are never one complete msgpack object:
  // '{' and '[' are one-byte integers followed by more bytes).
  nb::object unpack_event(nb::handle data, bool is_msgpack) {
    BytesView v(data, "data");
    if (!is_msgpack) return from_json(v.view());
    std::string msgpack_error, json_error;
    if (auto obj = try_decode([&] { return from_msgpack(v.view()); }, msgpack_error)) return *obj;
    if (auto obj = try_decode([&] { return from_json(v.view()); }, json_error)) return *obj;
    throw InvalidArgument("event is neither msgpack (" + msgpack_error + ") nor JSON (" + json_error + ")");
  }

  nb::dict stats() const {
    nb::dict d;
    d["total_compressed"] = compressed_;
    d["total_decompressed"] = decompressed_;
    d["compression_failures"] = compress_failures_;
    d["decompression_failures"] = decompress_failures_;
    d["total_bytes_saved"] = bytes_saved_;
    auto rate = [](std::uint64_t ok, std::uint64_t bad) {
      return ok + bad == 0 ? 0.0 : static_cast<double>(ok) / static_cast<double>(ok + bad);
    };
    d["compression_success_rate"] = rate(compressed_, compress_failures_);
    d["decompression_success_rate"] = rate(decompressed_, decompress_failures_);
    d["average_bytes_saved"] =
        compressed_ == 0 ? 0.0 : static_cast<double>(bytes_saved_) / static_cast<double>(compressed_);
    return d;
  }

  void reset_stats() {
    compressed_ = decompressed_ = compress_failures_ = decompress_failures_ = 0;
    bytes_saved_ = 0;
  }

 private:
  std::int64_t threshold_;
  int level_;
  std::size_t max_size_;
  std::uint64_t compressed_ = 0, decompressed_ = 0, compress_failures_ = 0, decompress_failures_ = 0;
  std::int64_t bytes_saved_ = 0;
};

}  // namespace

void register_compression(nb::module_& m) {
  m.def(
      "compress",
      [](nb::handle data, int level) {
        BytesView v(data, "data");
        return to_bytes(compress_view(v, level));
      },
      nb::arg("data"), nb::arg("level") = 6,
      nb::sig("def compress(data: bytes | bytearray | memoryview, level: int = 6) -> bytes"),
      "zlib stream (RFC 1950) of data at level 0-9 (ValueError otherwise).");
  m.def(
      "decompress",
      [](nb::handle data, std::int64_t max_size) {
        BytesView v(data, "data");
        return to_bytes(decompress_view(v, size_limit(max_size)));
      },
      nb::arg("data"), nb::arg("max_size") = compression::kDefaultMaxDecompressedSize,
      nb::sig("def decompress(data: bytes | bytearray | memoryview, max_size: int = 67108864) -> bytes"),
      "Inflates a zlib stream. ValueError for corrupt or truncated data, or when the output would\n"
      "exceed max_size bytes (decompression bombs).");
  m.def(
      "should_compress",
      [](nb::handle data, std::int64_t threshold) {
        BytesView v(data, "data");
        return static_cast<std::int64_t>(v.view().size()) > threshold;
      },
      nb::arg("data"), nb::arg("threshold") = 1024,
      nb::sig("def should_compress(data: bytes | bytearray | memoryview, threshold: int = 1024) -> bool"),
      "len(data) > threshold.");
  nb::class_<CompressionManager>(
      m, "CompressionManager",
      "zlib compression and msgpack packing with statistics. Not thread-safe beyond\n"
      "the GIL (each call is atomic).")
      .def(nb::init<std::int64_t, int, std::int64_t>(), nb::arg("threshold") = 1024,
           nb::arg("compression_level") = 6,
           nb::arg("max_decompressed_size") = compression::kDefaultMaxDecompressedSize)
      .def("should_compress", &CompressionManager::should_compress, nb::arg("data"),
           nb::sig("def should_compress(self, data: bytes | bytearray | memoryview) -> bool"))
      .def("compress", &CompressionManager::compress, nb::arg("data"), nb::arg("level") = nb::none(),
           nb::sig(
               "def compress(self, data: bytes | bytearray | memoryview, level: int | None = None) -> bytes"))
      .def("decompress", &CompressionManager::decompress, nb::arg("data"),
           nb::sig("def decompress(self, data: bytes | bytearray | memoryview) -> bytes"),
           "ValueError for corrupt data or output over max_decompressed_size (counted as a failure).")
      .def("pack_msgpack", &CompressionManager::pack_msgpack, nb::arg("obj").none(),
           nb::sig("def pack_msgpack(self, obj: typing.Any) -> bytes"))
      .def("unpack_msgpack", &CompressionManager::unpack_msgpack, nb::arg("data"),
           nb::sig("def unpack_msgpack(self, data: bytes | bytearray | memoryview) -> typing.Any"),
           "ValueError for invalid msgpack.")
      .def("pack_event", &CompressionManager::pack_event, nb::arg("event").none(),
           nb::arg("use_msgpack") = true,
           nb::sig("def pack_event(self, event: typing.Any, use_msgpack: bool = True) -> bytes"),
           "msgpack, or compact JSON (UUID/datetime/Decimal/Enum converted) with use_msgpack=False.")
      .def("unpack_event", &CompressionManager::unpack_event, nb::arg("data"), nb::arg("is_msgpack") = true,
           nb::sig("def unpack_event(self, data: bytes | bytearray | memoryview, is_msgpack: bool = True) -> "
                   "typing.Any"),
           "Inverse of pack_event. With is_msgpack, data that is not one complete msgpack object is\n"
           "decoded as JSON (the fallback); ValueError when neither decodes.")
      .def("get_stats", &CompressionManager::stats, nb::sig("def get_stats(self) -> dict[str, typing.Any]"))
      .def("reset_stats", &CompressionManager::reset_stats);
  for (const char* name : {"compress", "decompress", "should_compress"}) {
    export_name(m, name);
    export_alias(m, (std::string("rust_") + name).c_str(), name);
  }
  export_name(m, "CompressionManager");
  export_alias(m, "RustCompressionManager", "CompressionManager");
}

}  // namespace wse::py
