#pragma once
// RESP2 replies, parsed by hiredis' protocol reader (redisReader) into our own
// value tree: we feed it the bytes our Asio loop read and take complete replies
// out. hiredis allocates nothing of its own for replies; the object callbacks
// build RespValue nodes, which also lets us cap array sizes (a malicious or
// broken server cannot make us allocate without bound).
//
// Thread-safety: a RespReader belongs to one connection, used on one thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace wse::cluster {

enum class RespType : std::uint8_t { String, Array, Integer, Nil, Status, Error };

struct RespValue {
  RespType type = RespType::Nil;
  long long integer = 0;
  std::string str;                  // String, Status, Error
  std::vector<RespValue> elements;  // Array

  bool is_array() const noexcept { return type == RespType::Array; }
  bool is_error() const noexcept { return type == RespType::Error; }
  // String or Status text; empty otherwise.
  std::string_view text() const noexcept {
    return type == RespType::String || type == RespType::Status ? std::string_view(str) : std::string_view{};
  }
};

struct RespLimits {
  std::size_t max_array_elements = 1u << 20;
  std::size_t max_buffered_bytes = 512u << 20;  // Redis' own proto-max-bulk-len
};

class RespReader {
 public:
  explicit RespReader(RespLimits limits = {});
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  // Appends bytes. False (and error() says why) on a protocol error or a limit;
  // the connection must then be dropped: the stream cannot be resynchronised.
  bool feed(std::string_view bytes);
  // The next complete reply, nullopt if more bytes are needed or after an error.
  std::optional<RespValue> next();
  bool failed() const noexcept { return !error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  // Bytes fed but not yet consumed by complete replies.
  std::size_t buffered() const noexcept;

 private:
  redisReader* reader_ = nullptr;
  RespLimits limits_;
  std::string error_;
};

}  // namespace wse::cluster
