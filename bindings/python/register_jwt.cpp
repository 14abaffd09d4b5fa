// jwt_encode / jwt_decode (HS256), on the same core as the server's handshake.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "convert/buffer.hpp"
#include "convert/json.hpp"
#include "exports.hpp"
#include "wse/auth/jwt.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"

namespace wse::py {

namespace {

// A view of the token's bytes (UTF-8 of a str, cached by Python; or a buffer kept
// in `holder`), or nullopt when it is neither str nor bytes-like, or a str that
// cannot be encoded (lone surrogates): jwt_decode then returns None. No copy.
std::optional<std::string_view> token_view(nb::handle token, std::optional<BytesView>& holder) {
  if (PyUnicode_Check(token.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(token.ptr(), &size);
    if (data == nullptr) {
      PyErr_Clear();
      return std::nullopt;
    }
    return std::string_view(data, static_cast<std::size_t>(size));
  }
  if (PyBytes_Check(token.ptr()) || PyByteArray_Check(token.ptr()) || PyMemoryView_Check(token.ptr())) {
    holder.emplace(token, "token");
    return holder->view();
  }
  return std::nullopt;
}

std::string secret_bytes(nb::handle secret) {
  if (PyUnicode_Check(secret.ptr())) return std::string(str_view(secret, "secret"));
  BytesView s(secret, "secret");
  return std::string(s.view());
}

}  // namespace

void register_jwt(nb::module_& m) {
  m.def(
      "jwt_encode",
      [](nb::handle claims, nb::handle secret, const std::string& algorithm) {
        if (algorithm != "HS256") throw InvalidArgument("Only HS256 algorithm is supported");
        if (!PyDict_Check(claims.ptr())) throw nb::type_error("claims must be a dict");
        ToJsonOptions opts;
        opts.sort_keys = true;  // deterministic tokens
        opts.bytes = BytesMode::Reject;
        return auth::jwt_encode_hs256(to_json(claims, opts), secret_bytes(secret));
      },
      nb::arg("claims"), nb::arg("secret"), nb::arg("algorithm") = "HS256",
      nb::sig("def jwt_encode(claims: dict[str, typing.Any], secret: bytes | str, algorithm: str = 'HS256') "
              "-> str"),
      "Signs claims (serialized with sorted keys) as an HS256 JWT. ValueError for another algorithm,\n"
      "TypeError for claims that cannot be serialized.");
  m.def(
      "jwt_decode",
      [](nb::handle token, nb::handle secret, const std::string& algorithm, std::optional<std::string> issuer,
         std::optional<std::string> audience) -> nb::object {
        if (algorithm != "HS256") return nb::none();
        std::optional<BytesView> holder;
        const std::optional<std::string_view> text = token_view(token, holder);
        if (!text) return nb::none();
        auth::JwtOptions options;
        options.secret = secret_bytes(secret);
        if (issuer && !issuer->empty()) options.issuer = std::move(issuer);
        if (audience && !audience->empty()) options.audience = std::move(audience);
        nb::object result = nb::none();
        auth::jwt_verify_hs256(*text, options, util::unix_ms() / 1000, nullptr,
                               [&](simdjson::dom::element payload) { result = from_json(payload); });
        return result;
      },
      nb::arg("token").none(), nb::arg("secret"), nb::arg("algorithm") = "HS256",
      nb::arg("issuer") = nb::none(), nb::arg("audience") = nb::none(),
      nb::sig("def jwt_decode(token: str | bytes, secret: bytes | str, algorithm: str = 'HS256', issuer: str "
              "| None "
              "= None, "
              "audience: str | None = None) -> dict[str, typing.Any] | None"),
      "Verifies an HS256 JWT and returns its claims, or None on any failure: bad format or\n"
      "signature, another algorithm, missing or past exp, nbf more than 5 minutes ahead, and iss/aud\n"
      "mismatch when issuer/audience are given (aud may be a string or a list).");
  for (const char* name : {"jwt_encode", "jwt_decode"}) {
    export_name(m, name);
    export_alias(m, (std::string("rust_") + name).c_str(), name);
  }
}

}  // namespace wse::py
