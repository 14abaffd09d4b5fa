#pragma once
// Read-only views of Python bytes-like arguments, without copying.
#include <nanobind/nanobind.h>

#include <optional>
#include <string_view>

namespace wse::py {

// Holds a buffer view (bytes, bytearray, memoryview, any C-contiguous buffer) for
// as long as it lives. Throws nb::type_error naming `what` if `obj` is not
// bytes-like. The GIL must be held while constructing and destroying it; the view
// may be read without the GIL only if the object cannot be resized meanwhile
// (bytes are immutable; for bytearray, copy first).
class BytesView {
 public:
  BytesView(nanobind::handle obj, const char* what);
  ~BytesView();
  BytesView(const BytesView&) = delete;
  BytesView& operator=(const BytesView&) = delete;

  std::string_view view() const noexcept { return view_; }
  bool is_bytes() const noexcept { return !has_buffer_; }

 private:
  Py_buffer buffer_{};
  bool has_buffer_ = false;
  std::string_view view_;
};

// UTF-8 view of a str (cached inside the str object; valid while it lives).
// Throws nb::type_error if not a str, ValueError on lone surrogates.
std::string_view str_view(nanobind::handle obj, const char* what);

// Accepts str (UTF-8 encoded) or bytes-like; used for "data" arguments.
// `is_text` tells which one it was.
class TextOrBytes {
 public:
  TextOrBytes(nanobind::handle obj, const char* what);
  std::string_view view() const noexcept { return view_; }
  bool is_text() const noexcept { return is_text_; }

 private:
  std::string_view view_;
  bool is_text_ = false;
  std::optional<BytesView> bytes_;
};

}  // namespace wse::py
