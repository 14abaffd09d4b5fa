#pragma once
// Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag (the
// text between the first '{' and the next '}', when not empty), modulo 16384.
// Sharded pub/sub routes a channel exactly like a key. Pure; thread-safe.
#include <cstdint>
#include <string_view>

namespace wse::cluster {

inline constexpr std::uint16_t kSlotCount = 16384;

std::uint16_t crc16_xmodem(std::string_view data) noexcept;
// The part of `key` that is hashed (the hash tag, or the whole key).
std::string_view hash_tag(std::string_view key) noexcept;
std::uint16_t key_slot(std::string_view key) noexcept;

}  // namespace wse::cluster
