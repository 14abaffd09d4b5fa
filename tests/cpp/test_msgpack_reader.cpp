// The limit-checking msgpack reader (wse/compression/msgpack_reader.hpp): events
// for well-formed input, and clear errors for hostile input before any allocation.
#include <gtest/gtest.h>

#include <string>

#include "wse/compression/msgpack_reader.hpp"

namespace {

// Renders the event stream as text, e.g. "[2 1 s:a ]".
struct Recorder {
  std::string out;
  // Appends pieces one by one (GCC 12 warns falsely on "literal" + std::string).
  void put(std::string_view a, std::string_view b = {}) {
    out.append(a);
    out.append(b);
    out.push_back(' ');
  }
  void nil() { put("nil"); }
  void boolean(bool v) { put(v ? "true" : "false"); }
  void uint(std::uint64_t v) { put(std::to_string(v)); }
  void sint(std::int64_t v) { put(std::to_string(v)); }
  void f64(double v) { put("f", std::to_string(static_cast<int>(v))); }
  void str(std::string_view v) { put("s:", v); }
  void bin(std::string_view v) { put("b:", std::to_string(v.size())); }
  void ext(std::int8_t t, std::string_view v) {
    out.append("x");
    out.append(std::to_string(t));
    put(":", v);
  }
  void begin_array(std::uint32_t n) { put("[", std::to_string(n)); }
  void end_array() { put("]"); }
  void begin_map(std::uint32_t n) { put("{", std::to_string(n)); }
  void end_map() { put("}"); }
};

std::string read(std::string_view data, std::size_t max_depth = 256) {
  Recorder r;
  wse::compression::MsgpackLimits limits;
  limits.max_depth = max_depth;
  wse::compression::read_msgpack(data, r, limits);
  return r.out;
}

std::string error_of(std::string_view data, std::size_t max_depth = 256) {
  try {
    read(data, max_depth);
  } catch (const wse::InvalidArgument& e) {
    return e.what();
  }
  return "no error";
}

using namespace std::string_literals;

TEST(MsgpackReader, WellFormed) {
  EXPECT_EQ(read("\x92\x01\xa1\x61"s), "[2 1 s:a ] ");
  EXPECT_EQ(read("\x81\xa1k\xc0"s), "{1 s:k nil } ");
  EXPECT_EQ(read("\xff"s), "-1 ");
  EXPECT_EQ(read("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"s), "18446744073709551615 ");
  EXPECT_EQ(read("\xcb\x40\x00\x00\x00\x00\x00\x00\x00"s), "f2 ");
  EXPECT_EQ(read("\xc4\x02\x00\x01"s), "b:2 ");
  EXPECT_EQ(read("\xd4\x05z"s), "x5:z ");
  EXPECT_EQ(read("\x90"s), "[0 ] ");
  EXPECT_EQ(read("\xc3"s), "true ");
}

TEST(MsgpackReader, RejectsHostileAndBrokenInput) {
  // 5 bytes that declare 4 billion elements: refused before anything is allocated.
  EXPECT_EQ(error_of("\xdd\xff\xff\xff\xff"s),
            "msgpack container declares more elements than the data holds");
  EXPECT_EQ(error_of("\xdf\x0f\xff\xff\xff\x01"s),
            "msgpack container declares more elements than the data holds");
  EXPECT_EQ(error_of("\x94\x01\x02"s), "msgpack container declares more elements than the data holds");
  EXPECT_EQ(error_of("\x93\x01\x02"s), "truncated msgpack data");  // plausible size, missing item
  std::string deep(300, '\x91');
  deep.push_back('\xc0');
  EXPECT_EQ(error_of(deep), "msgpack nesting too deep");
  EXPECT_EQ(read(std::string_view(deep).substr(290), 10).size(), 10u * 5 + 4);  // "[1 " ... "nil " ... "] "
  EXPECT_EQ(error_of(std::string_view(deep).substr(289), 10), "msgpack nesting too deep");
  EXPECT_EQ(error_of("\xa5hi"s), "truncated msgpack data");
  EXPECT_EQ(error_of(""s), "truncated msgpack data (empty input)");
  EXPECT_EQ(error_of("\x01\x02"s), "extra data after the msgpack object");
  EXPECT_EQ(error_of("\xc1"s), "invalid msgpack data");  // the one reserved byte
}

}  // namespace
