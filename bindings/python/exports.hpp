#pragma once
// Registration helpers shared by the register_*.cpp files.
#include <nanobind/nanobind.h>

namespace wse::py {

namespace nb = nanobind;

// Adds `name` to the module's __all__ (so `from wse_server import *` and the
// package re-export see it).
void export_name(nb::module_& m, const char* name);

// Binds `alias` to the object already registered as `target` and exports both.
// Used for the seed's Rust*/rust_* names, which must keep working unchanged.
void export_alias(nb::module_& m, const char* alias, const char* target);

// One function per concern; each lives in its own register_<concern>.cpp.
void register_queues(nb::module_& m);       // PriorityQueue, PriorityMessageQueue
void register_rate_limit(nb::module_& m);   // TokenBucket
void register_sequencing(nb::module_& m);   // Sequencer, EventSequencer
void register_compression(nb::module_& m);  // compress, decompress, CompressionManager
void register_crypto(nb::module_& m);       // AES-GCM, ECDH, HMAC, SHA-256, sign_message
void register_jwt(nb::module_& m);          // jwt_encode, jwt_decode
void register_events(nb::module_& m);       // transform_event, match_event
void register_server(nb::module_& m);       // WSEServer

}  // namespace wse::py
