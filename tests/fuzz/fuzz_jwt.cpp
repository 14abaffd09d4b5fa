// JWT decoding (the handshake's token check and jwt_decode): every input must give
// a decision, never a crash. Half of each input is also signed as a payload, so the
// claim checks behind the signature (exp, nbf, iss, aud) see arbitrary JSON too.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "wse/auth/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wse::auth;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  JwtOptions options;
  options.secret = "fuzz-secret";
  if (data[0] & 1) options.issuer = "iss";
  if (data[0] & 2) options.audience = "aud";
  const std::int64_t now = 1'700'000'000;

  std::string why;
  auto raw = jwt_decode_hs256(input, options, now, &why);
  if (!raw && why.empty()) std::abort();  // every refusal says why

  // The input as a signed payload: only the claim checks can refuse it.
  const std::string token = jwt_encode_hs256(input, options.secret);
  why.clear();
  auto signed_claims = jwt_decode_hs256(token, options, now, &why);
  if (signed_claims && signed_claims->payload_json.empty()) std::abort();
  if (!signed_claims && why == "Invalid JWT signature") std::abort();  // we signed it
  return 0;
}
