#include "wse/cluster/message_header.hpp"

#include "wse/util/errors.hpp"

namespace wse::cluster {

namespace {

constexpr std::uint8_t kFlagBinary = 1, kFlagTopic = 2, kFlagMulti = 4;
constexpr std::uint8_t kKnownFlags = kFlagBinary | kFlagTopic | kFlagMulti;

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::size_t encoded_size(const MessageHeader& header, std::size_t payload_size) noexcept {
  return kHeaderSize + (header.multi_copy ? 8 : 0) + (header.topic.empty() ? 0 : 2 + header.topic.size()) +
         payload_size;
}

void encode_message(const MessageHeader& header, std::string_view payload, std::string& out) {
  if (header.topic.size() > kMaxHeaderTopic)
    throw InvalidArgument("topic longer than 65535 bytes cannot be carried in a Redis message header");
  out.append(kHeaderMagic);
  out.push_back(static_cast<char>(kHeaderVersion));
  std::uint8_t flags = 0;
  if (header.binary) flags |= kFlagBinary;
  if (!header.topic.empty()) flags |= kFlagTopic;
  if (header.multi_copy) flags |= kFlagMulti;
  out.push_back(static_cast<char>(flags));
  put_u64(out, header.publisher);
  put_u64(out, header.seq);
  if (header.multi_copy) put_u64(out, header.message_id);
  if (!header.topic.empty()) {
    out.push_back(static_cast<char>((header.topic.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(header.topic.size() & 0xff));
    out.append(header.topic);
  }
  out.append(payload);
}

ParsedPayload parse_message(std::string_view bytes) noexcept {
  ParsedPayload out;
  out.payload = bytes;
  if (!bytes.starts_with(kHeaderMagic)) return out;
  out.kind = HeaderParse::Malformed;
  if (bytes.size() < kHeaderSize) return out;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (p[3] != kHeaderVersion) return out;
  const std::uint8_t flags = p[4];
  if ((flags & ~kKnownFlags) != 0) return out;
  MessageHeader h;
  h.binary = (flags & kFlagBinary) != 0;
  h.multi_copy = (flags & kFlagMulti) != 0;
  h.publisher = get_u64(p + 5);
  h.seq = get_u64(p + 13);
  if (h.publisher == 0) return out;
  std::size_t at = kHeaderSize;
  if (h.multi_copy) {
    if (bytes.size() < at + 8) return out;
    h.message_id = get_u64(p + at);
    at += 8;
  }
  if ((flags & kFlagTopic) != 0) {
    if (bytes.size() < at + 2) return out;
    const std::size_t n = (static_cast<std::size_t>(p[at]) << 8) | p[at + 1];
    at += 2;
    if (n == 0 || bytes.size() < at + n) return out;
    h.topic = bytes.substr(at, n);
    at += n;
  }
  out.kind = HeaderParse::Framed;
  out.header = h;
  out.payload = bytes.substr(at);
  return out;
}

}  // namespace wse::cluster
