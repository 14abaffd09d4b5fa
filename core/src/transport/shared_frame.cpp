#include "wse/transport/shared_frame.hpp"

#include <cstring>

namespace wse::transport {

FrameBuffer* FrameBuffer::create(protocol::Opcode op, std::string_view payload) {
  FrameBuffer* f = create(op, payload.size());
  if (!payload.empty()) std::memcpy(f->payload(), payload.data(), payload.size());
  return f;
}

FrameBuffer* FrameBuffer::raw(std::string_view bytes) {
  void* mem = ::operator new(sizeof(FrameBuffer) + bytes.size());
  auto* f = new (mem) FrameBuffer(bytes.size());
  if (!bytes.empty()) std::memcpy(f->bytes(), bytes.data(), bytes.size());
  return f;
}

}  // namespace wse::transport
