// FrameBuffer: one message, a concat of several, and several framed at once must
// be byte for byte what the plain encoder writes, frame after frame.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "wse/protocol/frame.hpp"
#include "wse/transport/shared_frame.hpp"

using wse::protocol::Opcode;
using wse::transport::FrameBuffer;
using wse::transport::FrameRef;

namespace {

std::string bytes_of(const FrameRef& f) { return std::string(f->bytes(), f->size()); }

}  // namespace

TEST(SharedFrame, CreateManyIsTheFramesBackToBack) {
  // Payload sizes on each side of the 7-bit and 16-bit length encodings, and empty.
  const std::vector<std::string> payloads = {"",
                                             "a",
                                             std::string(125, 'x'),
                                             std::string(126, 'y'),
                                             std::string(65535, 'z'),
                                             std::string(65536, 'w')};
  std::vector<std::pair<Opcode, std::string_view>> messages;
  std::string expected;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Opcode op = i % 2 == 0 ? Opcode::Text : Opcode::Binary;
    messages.emplace_back(op, payloads[i]);
    wse::protocol::append_frame(expected, op, payloads[i]);
  }
  FrameRef many(FrameBuffer::create_many(messages.data(), messages.size()));
  EXPECT_EQ(many->frames(), payloads.size());
  EXPECT_EQ(bytes_of(many), expected);

  // The same bytes as a concat of single frames.
  std::vector<FrameRef> singles;
  std::vector<const FrameBuffer*> parts;
  for (const auto& [op, payload] : messages) {
    singles.push_back(wse::transport::make_frame(op, payload));
    parts.push_back(singles.back().get());
  }
  FrameRef joined(FrameBuffer::concat(parts.data(), parts.size()));
  EXPECT_EQ(joined->frames(), payloads.size());
  EXPECT_EQ(bytes_of(joined), expected);
}

TEST(SharedFrame, CreateManyOfOneIsOneFrame) {
  const std::pair<Opcode, std::string_view> one{Opcode::Text, "hello"};
  FrameRef f(FrameBuffer::create_many(&one, 1));
  EXPECT_EQ(f->frames(), 1u);
  EXPECT_EQ(bytes_of(f), wse::protocol::encode_frame(Opcode::Text, "hello"));
}
