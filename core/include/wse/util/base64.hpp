#pragma once
// Base64 (RFC 4648). Pure functions; thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace wse::util {

// Standard alphabet with '=' padding (used for keys in server_ready / client_hello).
std::string base64_encode(std::string_view data);
// URL-safe alphabet without padding (JWT segments).
std::string base64url_encode(std::string_view data);

// Strict decoders: nullopt on any character outside the alphabet, bad padding or
// non-canonical trailing bits. base64_decode requires padding; base64url_decode
// rejects it (a padded JWT segment is not a valid JWT).
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace wse::util
