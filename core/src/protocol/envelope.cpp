#include "wse/protocol/envelope.hpp"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cctype>
#include <cstdint>
#include <cstring>

#include "wse/protocol/spec.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/json_writer.hpp"
#include "wse/util/uuid.hpp"

namespace wse::protocol {

std::string_view category_for_type(std::string_view type) noexcept {
  if (type.find(spec::kSnapshotContains) != std::string_view::npos ||
      type.starts_with(spec::kSnapshotStartsWith))
    return spec::kPrefixSnapshot;
  for (std::string_view system : spec::kSystemMessageTypes)
    if (type == system) return spec::kPrefixSystem;
  return spec::kPrefixUpdate;
}

std::optional<std::string_view> strip_category(std::string_view text) noexcept {
  if (text.starts_with("WSE{")) return text.substr(3);
  if (text.starts_with("S{") || text.starts_with("U{")) return text.substr(1);
  if (text.starts_with("{")) return text;
  return std::nullopt;
}

std::optional<std::string_view> legacy_ping(std::string_view text) noexcept {
  auto istarts = [&](std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      const char c = text[i];  // ASCII upper case (no locale call on every inbound text)
      if ((c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c) != prefix[i]) return false;
    }
    return true;
  };
  if (istarts("WSE:PING:")) return text.substr(9);
  if (istarts("PING:")) return text.substr(5);
  return std::nullopt;
}

namespace {

// Copies `json` into a per-thread buffer with simdjson's padding after it, so the
// parser may read ahead without an allocation per message. Two slots: the whole
// message and its payload are alive at the same time.
const char* padded_copy(std::string_view json, int slot) {
  thread_local std::string buffers[2];
  std::string& buf = buffers[slot];
  buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf.data(), json.data(), json.size());
  std::memset(buf.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  return buf.data();
}

}  // namespace

namespace {

// Whether a name the server answers itself starts right after an opening quote
// at `s` (with `left` bytes to the end): ping", PING", pong", PONG",
// client_hello", subscription", subscription_update".
bool server_name_at(const char* s, std::size_t left) noexcept {
  auto is = [&](std::string_view name) {
    return left >= name.size() && std::memcmp(s, name.data(), name.size()) == 0;
  };
  switch (left == 0 ? '\0' : *s) {
    case 'p':
      return is("ping\"") || is("pong\"");
    case 'P':
      return is("PING\"") || is("PONG\"");
    case 'c':
      return is("client_hello\"");
    case 's':
      return is("subscription\"") || is("subscription_update\"");
    default:
      return false;
  }
}

// Whether the byte at `at` decides the scan: a backslash, or a quote followed by a name.
bool decides_at(const char* p, std::size_t n, std::size_t at) noexcept {
  return p[at] == '\\' || (p[at] == '"' && server_name_at(p + at + 1, n - at - 1));
}

}  // namespace

bool may_be_server_handled(std::string_view json) noexcept {
  // One pass for a quote or a backslash (an escape could spell a name in another
  // way: then only a parse can tell), 16 bytes per step with SSE2 (part of
  // x86-64), 8 with plain 64-bit words elsewhere. This runs for every inbound
  // application message, so it must cost a small fraction of the parse it saves.
  const char* p = json.data();
  const std::size_t n = json.size();
  std::size_t i = 0;
#if defined(__SSE2__)
  // A quote counts only when the next byte can start a name (p, P, c, s): most
  // quotes of an application message are dismissed without a branch.
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i p_lo = _mm_set1_epi8('p'), p_up = _mm_set1_epi8('P'), c_lo = _mm_set1_epi8('c'),
                s_lo = _mm_set1_epi8('s');
  for (; i + 17 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    const __m128i starts = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(next, p_lo), _mm_cmpeq_epi8(next, p_up)),
                                        _mm_or_si128(_mm_cmpeq_epi8(next, c_lo), _mm_cmpeq_epi8(next, s_lo)));
    const __m128i hit =
        _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_and_si128(_mm_cmpeq_epi8(v, quote), starts));
    for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(hit)); bits != 0; bits &= bits - 1)
      if (decides_at(p, n, i + static_cast<std::size_t>(__builtin_ctz(bits)))) return true;
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  // Nonzero iff some byte of `word` equals `b` (the classic has-zero-byte test).
  auto any_byte = [&](std::uint64_t word, unsigned char b) {
    const std::uint64_t x = word ^ (kOnes * b);
    return ((x - kOnes) & ~x & kHighs) != 0;
  };
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (!any_byte(word, '"') && !any_byte(word, '\\')) continue;
    for (std::size_t k = i; k < i + 8; ++k)
      if (decides_at(p, n, k)) return true;
  }
#endif
  for (; i < n; ++i)
    if (decides_at(p, n, i)) return true;
  return false;
}

bool looks_like_object(std::string_view json) noexcept {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t b = 0, e = json.size();
  while (b < e && space(json[b])) ++b;
  while (e > b && space(json[e - 1])) --e;
  return e - b >= 2 && json[b] == '{' && json[e - 1] == '}';
}

InboundInfo inspect_inbound(std::string_view json) {
  InboundInfo info;
  // One parser per thread: parsing is the hot path of every inbound message.
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded_copy(json, 0), json.size(), json.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
      simdjson::SUCCESS)
    return info;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return info;
  bool have_t = false;
  std::string payload_raw;
  bool have_p = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return info;
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return info;
    if (key == "t" || key == "type") {
      std::string_view s;
      if (value.get_string().get(s) == simdjson::SUCCESS) {
        if (key == "t") {
          have_t = true;
          info.type.assign(s);
        } else if (!have_t) {
          info.type.assign(s);
        }
      }
    } else if (key == "p" || (key == "payload" && !have_p)) {
      std::string_view raw;
      simdjson::ondemand::object payload_obj;
      if (value.get_object().get(payload_obj) == simdjson::SUCCESS &&
          payload_obj.raw_json().get(raw) == simdjson::SUCCESS) {
        payload_raw.assign(raw);
        if (key == "p") have_p = true;
      }
    }
    // Other values are skipped by the iterator when it advances.
  }
  info.is_object = true;
  if (payload_raw.empty()) return info;
  // Second, tiny parse of the payload only for the types we act on.
  if (info.type == "ping" || info.type == "PING") {
    simdjson::ondemand::document pd;
    if (parser
            .iterate(padded_copy(payload_raw, 1), payload_raw.size(),
                     payload_raw.size() + simdjson::SIMDJSON_PADDING)
            .get(pd) == simdjson::SUCCESS) {
      int64_t ts;
      if (pd["timestamp"].get_int64().get(ts) == simdjson::SUCCESS) info.ping_timestamp = ts;
    }
  } else if (info.type == "client_hello") {
    simdjson::ondemand::document pd;
    if (parser
            .iterate(padded_copy(payload_raw, 1), payload_raw.size(),
                     payload_raw.size() + simdjson::SIMDJSON_PADDING)
            .get(pd) == simdjson::SUCCESS) {
      std::string_view key;
      if (pd["encryption_public_key"].get_string().get(key) == simdjson::SUCCESS)
        info.encryption_public_key.assign(key);
    }
  } else if (info.type == "subscription_update" || info.type == "subscription") {
    simdjson::ondemand::document pd;
    if (parser
            .iterate(padded_copy(payload_raw, 1), payload_raw.size(),
                     payload_raw.size() + simdjson::SIMDJSON_PADDING)
            .get(pd) != simdjson::SUCCESS)
      return info;
    simdjson::ondemand::object po;
    if (pd.get_object().get(po) != simdjson::SUCCESS) return info;
    for (auto field : po) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
      if (key == "action") {
        std::string_view a;
        if (field.value().get_string().get(a) == simdjson::SUCCESS) info.action.assign(a);
      } else if (key == "topics") {
        simdjson::ondemand::array arr;
        if (field.value().get_array().get(arr) != simdjson::SUCCESS) {
          info.topics_valid = false;
          continue;
        }
        for (auto item : arr) {
          std::string_view t;
          if (item.get_string().get(t) != simdjson::SUCCESS) {
            info.topics_valid = false;
            break;
          }
          info.topics.emplace_back(t);
        }
      }
    }
  }
  return info;
}

namespace {

void begin_envelope(std::string& out, util::JsonWriter& w, std::string_view type, uint64_t seq,
                    int64_t now_ms, bool with_id) {
  out.append(category_for_type(type));
  w.begin_object();
  w.key("t").string(type);
  if (with_id) {
    const auto id = util::uuid7();
    w.key("id").string(std::string_view(id.data(), id.size()));
  }
  char ts[util::kIsoMsLength];
  util::format_iso8601_ms(now_ms, ts);
  w.key("ts").string(std::string_view(ts, sizeof ts));
  w.key("seq").uinteger(seq);
  w.key("v").integer(spec::kProtocolVersion);
}

void write_features(util::JsonWriter& w, bool msgpack, bool compression, bool encryption) {
  w.key("features").begin_object();
  w.key("compression").boolean(compression);
  w.key("msgpack").boolean(msgpack);
  w.key("encryption").boolean(encryption);
  w.key("batching").boolean(true);
  w.key("native_transport").boolean(true);
  w.end_object();
}

}  // namespace

std::string server_ready_message(const ServerReadyInfo& info) {
  std::string out;
  out.reserve(512);
  util::JsonWriter w(out);
  begin_envelope(out, w, spec::kType_server_ready, 0, info.now_ms, true);
  char ts[util::kIsoMsLength];
  util::format_iso8601_ms(info.now_ms, ts);
  w.key("p").begin_object();
  w.key("message").string("Connection established");
  w.key("details").begin_object();
  w.key("connection_id").string(info.connection_id);
  if (info.user_id.empty()) {
    w.key("user_id").null();
  } else {
    w.key("user_id").string(info.user_id);
  }
  w.key("server_time").string(std::string_view(ts, sizeof ts));
  w.key("version").integer(spec::kProtocolVersion);
  w.key("server_version").string(spec::kServerVersion);
  w.key("heartbeat_interval").integer(info.heartbeat_interval_ms);
  w.key("idle_timeout").integer(info.idle_timeout_ms);
  w.key("max_message_size").uinteger(info.max_message_size);
  write_features(w, info.msgpack, info.compression, !info.encryption_public_key.empty());
  if (!info.encryption_public_key.empty()) w.key("encryption_public_key").string(info.encryption_public_key);
  w.end_object();
  w.end_object();
  w.end_object();
  return out;
}

std::string server_hello_message(std::string_view connection_id, uint64_t seq, int64_t now_ms,
                                 uint64_t max_message_size, double rate_capacity, double rate_refill,
                                 int64_t heartbeat_interval_ms, bool msgpack, bool compression,
                                 bool encryption) {
  std::string out;
  out.reserve(400);
  util::JsonWriter w(out);
  begin_envelope(out, w, spec::kType_server_hello, seq, now_ms, true);
  w.key("p").begin_object();
  w.key("server_version").string(spec::kServerVersion);
  w.key("protocol_version").integer(spec::kProtocolVersion);
  w.key("connection_id").string(connection_id);
  write_features(w, msgpack, compression, encryption);
  w.key("max_message_size").uinteger(max_message_size);
  w.key("rate_limit").begin_object();
  w.key("capacity").number(rate_capacity);
  w.key("refill_rate").number(rate_refill);
  w.end_object();
  w.key("heartbeat_interval").integer(heartbeat_interval_ms);
  w.end_object();
  w.end_object();
  return out;
}

std::string pong_message(int64_t client_timestamp, int64_t server_ms) {
  std::string out;
  out.reserve(96);
  out.append(spec::kPrefixSystem);
  util::JsonWriter w(out);
  w.begin_object();
  w.key("t").string(spec::kType_PONG);
  w.key("p").begin_object();
  w.key("client_timestamp").integer(client_timestamp);
  w.key("server_timestamp").integer(server_ms);
  w.key("latency").integer(client_timestamp > 0 && server_ms > client_timestamp ? server_ms - client_timestamp
                                                                                : 0);
  w.end_object();
  w.key("v").integer(spec::kProtocolVersion);
  w.end_object();
  return out;
}

std::string error_message(std::string_view code, std::string_view message, bool recoverable) {
  std::string out;
  out.reserve(128 + message.size());
  out.append(spec::kPrefixSystem);
  util::JsonWriter w(out);
  w.begin_object();
  w.key("t").string(spec::kType_error);
  w.key("p").begin_object();
  w.key("code").string(code);
  w.key("message").string(message);
  w.key("recoverable").boolean(recoverable);
  w.end_object();
  w.key("v").integer(spec::kProtocolVersion);
  w.end_object();
  return out;
}

std::string rate_limit_warning_message(uint64_t seq, int64_t now_ms, double capacity, double refill,
                                       double retry_after_s, uint64_t dropped) {
  std::string out;
  util::JsonWriter w(out);
  begin_envelope(out, w, spec::kType_rate_limit_warning, seq, now_ms, true);
  w.key("p").begin_object();
  w.key("code").string(spec::kErrorRateLimitExceeded);
  w.key("message").string("Rate limit exceeded: messages were dropped. Please slow down.");
  w.key("capacity").number(capacity);
  w.key("refill_rate").number(refill);
  w.key("retry_after").number(retry_after_s);
  w.key("dropped").uinteger(dropped);
  w.end_object();
  w.end_object();
  return out;
}

std::string subscription_ack_message(const SubscriptionAck& ack, uint64_t seq, int64_t now_ms) {
  std::string out;
  util::JsonWriter w(out);
  begin_envelope(out, w, spec::kType_subscription_update, seq, now_ms, true);
  w.key("p").begin_object();
  w.key("action").string(ack.action);
  w.key("success").boolean(ack.failed_topics.empty());
  w.key("success_topics").begin_array();
  for (const auto& t : ack.success_topics) w.string(t);
  w.end_array();
  w.key("failed_topics").begin_array();
  for (const auto& t : ack.failed_topics) {
    w.begin_object();
    w.key("topic").string(t);
    w.key("error").string(spec::kErrorSubscriptionFailed);
    w.end_object();
  }
  w.end_array();
  w.key("active_subscriptions").begin_array();
  for (const auto& t : ack.active) w.string(t);
  w.end_array();
  w.end_object();
  w.end_object();
  return out;
}

}  // namespace wse::protocol
