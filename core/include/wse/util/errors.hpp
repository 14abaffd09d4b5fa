#pragma once
// The closed vocabulary of exceptions thrown by the core. Each derives from the
// standard type that the Python binding maps to the matching Python exception:
//   InvalidArgument  -> ValueError     (caller passed something unusable)
//   LimitExceeded    -> ValueError     (input over a configured cap, e.g. a decompression bomb)
//   OperationFailed  -> RuntimeError   (the operation could not be done: decrypt failed, I/O, ...)
//   NotRunning       -> RuntimeError   (server call that needs start() first)
#include <stdexcept>

namespace wse {

struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct LimitExceeded : std::length_error {
  using std::length_error::length_error;
};

struct OperationFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NotRunning : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace wse
