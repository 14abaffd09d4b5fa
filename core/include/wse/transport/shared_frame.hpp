#pragma once
// An immutable, reference-counted WebSocket frame (header + payload in one
// allocation). A publish builds its frame once; every subscriber's outbound
// queue holds a reference, never a copy.
//
// Thread-safety: the bytes are written once by the creator before the frame is
// shared, then only read; the count is atomic, so references move between threads.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <utility>

#include "wse/protocol/frame.hpp"

namespace wse::transport {

class FrameBuffer {
 public:
  // One allocation of header + `payload_size`; the payload is filled by the caller.
  static FrameBuffer* create(protocol::Opcode op, std::size_t payload_size) {
    const std::size_t header = protocol::frame_header_size(payload_size);
    void* mem = ::operator new(sizeof(FrameBuffer) + header + payload_size);
    auto* f = new (mem) FrameBuffer(header + payload_size);
    protocol::write_frame_header(f->bytes(), op, payload_size);
    f->payload_offset_ = static_cast<std::uint32_t>(header);
    return f;
  }
  static FrameBuffer* create(protocol::Opcode op, std::string_view payload);
  // Raw bytes (e.g. an HTTP response) sent verbatim.
  static FrameBuffer* raw(std::string_view bytes);
  // Several whole frames back to back in one buffer (a run of publishes to one
  // topic): subscribers then queue one reference and the socket gets one iovec
  // for all of them. frames() of the result is the sum of the parts' frames().
  static FrameBuffer* concat(const FrameBuffer* const* parts, std::size_t count);
  // Several messages framed back to back in one allocation (the replies a batch
  // sends to one connection).
  static FrameBuffer* create_many(const std::pair<protocol::Opcode, std::string_view>* messages,
                                  std::size_t count);

  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  std::size_t size() const noexcept { return size_; }
  // Messages in this buffer (1, or the count of a concat()).
  std::uint32_t frames() const noexcept { return frames_; }
  char* payload() noexcept { return bytes() + payload_offset_; }

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~FrameBuffer();
      ::operator delete(this);
    }
  }

 private:
  explicit FrameBuffer(std::size_t size) : size_(size) {}
  std::atomic<std::uint32_t> refs_{1};
  std::uint32_t payload_offset_ = 0;
  std::uint32_t frames_ = 1;
  std::size_t size_;
};

// Owning handle (like an intrusive shared pointer).
class FrameRef {
 public:
  FrameRef() = default;
  explicit FrameRef(FrameBuffer* adopt) noexcept : f_(adopt) {}
  FrameRef(const FrameRef& o) noexcept : f_(o.f_) {
    if (f_ != nullptr) f_->add_ref();
  }
  FrameRef(FrameRef&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
  FrameRef& operator=(FrameRef o) noexcept {
    std::swap(f_, o.f_);
    return *this;
  }
  ~FrameRef() {
    if (f_ != nullptr) f_->release();
  }
  FrameBuffer* get() const noexcept { return f_; }
  FrameBuffer* operator->() const noexcept { return f_; }
  explicit operator bool() const noexcept { return f_ != nullptr; }

 private:
  FrameBuffer* f_ = nullptr;
};

inline FrameRef make_frame(protocol::Opcode op, std::string_view payload) {
  return FrameRef(FrameBuffer::create(op, payload));
}
inline FrameRef make_raw(std::string_view bytes) { return FrameRef(FrameBuffer::raw(bytes)); }

}  // namespace wse::transport
