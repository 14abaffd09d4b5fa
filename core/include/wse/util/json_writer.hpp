#pragma once
// Minimal JSON text builder for messages the core composes itself (server_ready,
// PONG, errors, acks). Appends to a caller-owned std::string; no allocation of its
// own beyond that string's growth. Not thread-safe (one writer per string).
#include <cstdint>
#include <string>
#include <string_view>

namespace wse::util {

// Appends `s` as a JSON string literal (with quotes). `s` must be valid UTF-8;
// control characters, '"' and '\\' are escaped, everything else is copied.
void append_json_string(std::string& out, std::string_view s);
void append_json_int(std::string& out, int64_t v);
void append_json_uint(std::string& out, uint64_t v);
// Shortest round-trip form; NaN and infinities become null (JSON has no spelling for them).
void append_json_double(std::string& out, double v);

// Streaming object/array builder that inserts commas for you:
//   JsonWriter w(out); w.begin_object(); w.key("t"); w.string("PONG"); w.end_object();
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view v);
  JsonWriter& integer(int64_t v);
  JsonWriter& uinteger(uint64_t v);
  JsonWriter& number(double v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // Inserts already-serialized JSON (trusted) as one value.
  JsonWriter& raw(std::string_view json);

 private:
  void before_value();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace wse::util
