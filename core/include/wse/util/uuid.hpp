#pragma once
// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids
// sort by creation time. Thread-safe: each thread has its own generator, seeded
// from the kernel (getrandom). Ids are unique, not secret.
#include <array>
#include <string>

namespace wse::util {

using UuidText = std::array<char, 36>;  // "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

UuidText uuid7() noexcept;
std::string uuid7_string();

// Fast non-cryptographic random numbers for ids and jitter (per thread, kernel-seeded).
uint64_t random_u64() noexcept;
// Uniform double in [0, 1).
double random_unit() noexcept;

}  // namespace wse::util
