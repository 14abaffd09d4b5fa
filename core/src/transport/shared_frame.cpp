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

FrameBuffer* FrameBuffer::create_many(const std::pair<protocol::Opcode, std::string_view>* messages,
                                      std::size_t count) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i)
    total += protocol::frame_header_size(messages[i].second.size()) + messages[i].second.size();
  void* mem = ::operator new(sizeof(FrameBuffer) + total);
  auto* f = new (mem) FrameBuffer(total);
  char* at = f->bytes();
  for (std::size_t i = 0; i < count; ++i) {
    const auto& [op, payload] = messages[i];
    at += protocol::write_frame_header(at, op, payload.size());
    if (!payload.empty()) std::memcpy(at, payload.data(), payload.size());
    at += payload.size();
  }
  f->frames_ = static_cast<std::uint32_t>(count);
  return f;
}

FrameBuffer* FrameBuffer::concat(const FrameBuffer* const* parts, std::size_t count) {
  std::size_t total = 0;
  std::uint32_t frames = 0;
  for (std::size_t i = 0; i < count; ++i) {
    total += parts[i]->size();
    frames += parts[i]->frames();
  }
  void* mem = ::operator new(sizeof(FrameBuffer) + total);
  auto* f = new (mem) FrameBuffer(total);
  char* at = f->bytes();
  for (std::size_t i = 0; i < count; ++i) {
    std::memcpy(at, parts[i]->bytes(), parts[i]->size());
    at += parts[i]->size();
  }
  f->frames_ = frames;
  return f;
}

}  // namespace wse::transport
