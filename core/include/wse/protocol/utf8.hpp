#pragma once
// UTF-8 validation for text frames (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF). Pure and thread-safe; ASCII runs are checked eight
// bytes at a time.
#include <string_view>

namespace wse::protocol {

bool is_valid_utf8(std::string_view text) noexcept;

// Whether every byte is below 0x80 (16 bytes per step).
bool is_ascii(std::string_view text) noexcept;

}  // namespace wse::protocol
