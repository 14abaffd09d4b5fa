#pragma once
// Reads one MessagePack object from bytes that may come from the network (M:
// frames, unpack_msgpack/unpack_event). msgpack-c's C++ visitor parser does the
// decoding (iteratively, no recursion on the C stack); this wrapper adds the
// limits that make hostile input harmless:
//   - nesting deeper than `max_depth` is refused;
//   - declared container sizes are checked against the input: every element
//     takes at least one byte, so all the arrays and maps of one object cannot
//     declare more elements (maps: 2 per pair) than the input has bytes. A 5-byte
//     "array of 4 billion items" is refused before anything is allocated, and a
//     handler may reserve exactly what a header declares;
//   - truncated input and bytes after the object are errors.
// Header-only (the handler is a template parameter). Pure and thread-safe.
//
// Handler concept (each call may throw; the exception propagates unchanged):
//   nil() boolean(bool) uint(uint64_t) sint(int64_t) f64(double)
//   str(string_view) bin(string_view) ext(int8_t type, string_view data)
//   begin_array(uint32_t n) end_array() begin_map(uint32_t pairs) end_map()
// Map keys and values arrive alternately between begin_map and end_map.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
// unpack.hpp first: parse.hpp uses the value types it declares.
// clang-format off
#include <msgpack/unpack.hpp>
#include <msgpack/null_visitor.hpp>
#include <msgpack/parse.hpp>
// clang-format on

#include "wse/util/errors.hpp"

namespace wse::compression {

struct MsgpackLimits {
  std::size_t max_depth = 256;  // containers inside containers; real events are a few levels deep
};

namespace detail {

template <class Handler>
class LimitedVisitor : public msgpack::null_visitor {
 public:
  LimitedVisitor(Handler& h, std::size_t input_size, const MsgpackLimits& limits)
      : h_(h), budget_(input_size), limits_(limits) {}

  bool visit_nil() { return h_.nil(), true; }
  bool visit_boolean(bool v) { return h_.boolean(v), true; }
  bool visit_positive_integer(std::uint64_t v) { return h_.uint(v), true; }
  bool visit_negative_integer(std::int64_t v) { return h_.sint(v), true; }
  bool visit_float32(float v) { return h_.f64(static_cast<double>(v)), true; }
  bool visit_float64(double v) { return h_.f64(v), true; }
  bool visit_str(const char* p, std::uint32_t n) { return h_.str(std::string_view(p, n)), true; }
  bool visit_bin(const char* p, std::uint32_t n) { return h_.bin(std::string_view(p, n)), true; }
  bool visit_ext(const char* p, std::uint32_t n) {
    // msgpack-c passes the type byte followed by the data.
    if (n == 0) return fail("malformed msgpack ext");
    h_.ext(static_cast<std::int8_t>(p[0]), std::string_view(p + 1, n - 1));
    return true;
  }
  bool start_array(std::uint32_t n) {
    if (!enter(n)) return false;
    h_.begin_array(n);
    return true;
  }
  bool end_array() {
    --depth_;
    h_.end_array();
    return true;
  }
  bool start_map(std::uint32_t n) {
    if (!enter(2 * static_cast<std::uint64_t>(n))) return false;
    h_.begin_map(n);
    return true;
  }
  bool end_map() {
    --depth_;
    h_.end_map();
    return true;
  }
  void parse_error(std::size_t, std::size_t) {
    if (error_.empty()) error_ = "invalid msgpack data";
  }
  void insufficient_bytes(std::size_t, std::size_t) {
    if (error_.empty()) error_ = "truncated msgpack data";
  }

  const std::string& error() const noexcept { return error_; }

 private:
  bool fail(const char* why) {
    error_ = why;
    return false;
  }
  bool enter(std::uint64_t elements) {
    if (++depth_ > limits_.max_depth) return fail("msgpack nesting too deep");
    if (elements > budget_) return fail("msgpack container declares more elements than the data holds");
    budget_ -= elements;
    return true;
  }

  Handler& h_;
  std::uint64_t budget_;  // elements that may still be declared
  std::size_t depth_ = 0;
  const MsgpackLimits& limits_;
  std::string error_;
};

}  // namespace detail

// Feeds the one object in `data` to `handler`. Throws InvalidArgument (with the
// reason) for invalid, truncated or over-limit input or bytes after the object;
// the handler may then have seen a prefix of the events.
template <class Handler>
void read_msgpack(std::string_view data, Handler& handler, const MsgpackLimits& limits = {}) {
  if (data.empty()) throw InvalidArgument("truncated msgpack data (empty input)");
  detail::LimitedVisitor<Handler> v(handler, data.size(), limits);
  std::size_t off = 0;
  // parse() is true when one object was read (off tells whether bytes follow).
  if (!msgpack::parse(data.data(), data.size(), off, v))
    throw InvalidArgument(v.error().empty() ? std::string("invalid msgpack data") : v.error());
  if (off != data.size()) throw InvalidArgument("extra data after the msgpack object");
}

}  // namespace wse::compression
