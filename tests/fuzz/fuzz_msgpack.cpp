// msgpack reading (M: frames, unpack_msgpack, unpack_event): any input is either
// one well-formed object, delivered as balanced events within the declared sizes,
// or an InvalidArgument. Never a crash, and never more elements than input bytes.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wse/compression/msgpack_reader.hpp"

namespace {

// Checks the event stream the way a tree builder relies on it.
struct Checker {
  struct Open {
    std::uint64_t expected;  // values still due in this container
  };
  std::vector<Open> open;
  std::uint64_t values = 0;
  bool done = false;

  void value() {
    if (done) std::abort();  // a second top-level object
    ++values;
    if (open.empty()) {
      done = true;
    } else {
      if (open.back().expected == 0) std::abort();
      --open.back().expected;
    }
  }
  void nil() { value(); }
  void boolean(bool) { value(); }
  void uint(std::uint64_t) { value(); }
  void sint(std::int64_t) { value(); }
  void f64(double) { value(); }
  void str(std::string_view) { value(); }
  void bin(std::string_view) { value(); }
  void ext(std::int8_t, std::string_view) { value(); }
  void begin_array(std::uint32_t n) { open.push_back({n}); }
  void begin_map(std::uint32_t n) { open.push_back({2 * static_cast<std::uint64_t>(n)}); }
  void end() {
    if (open.empty() || open.back().expected != 0) std::abort();
    open.pop_back();
    value();
  }
  void end_array() { end(); }
  void end_map() { end(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Checker c;
  wse::compression::MsgpackLimits limits;
  limits.max_depth = 64;
  try {
    wse::compression::read_msgpack(input, c, limits);
    if (!c.done || !c.open.empty() || c.values > size) std::abort();
  } catch (const wse::InvalidArgument&) {
  }
  if (c.open.size() > limits.max_depth) std::abort();
  return 0;
}
