// WSEServer (alias RustWSEServer): the Python face of wse::server::Server.
// Conversions between Python objects and bytes happen here, with the GIL held;
// waiting (drain_inbound, stop) happens with the GIL released.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <thread>

#include "convert/buffer.hpp"
#include "convert/collector.hpp"
#include "convert/json.hpp"
#include "convert/msgpack.hpp"
#include "convert/pytypes.hpp"
#include "exports.hpp"
#include "wse/cluster/redis_broker.hpp"
#include "wse/compression/zlib.hpp"
#include "wse/protocol/envelope.hpp"
#include "wse/protocol/spec.hpp"
#include "wse/server/server.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/json_writer.hpp"
#include "wse/util/uuid.hpp"

namespace wse::py {

namespace {

using transport::FrameRef;
using transport::InboundKind;

// Payload bytes per shared buffer of publish_many(): large enough that a burst
// reaches each subscriber in a few iovecs, small enough that one buffer stays far
// below a connection's outbound cap (max_outbound_bytes, 4 MiB by default).
constexpr std::size_t kPublishManyBytes = 64 * 1024;

static_assert(transport::InboundBatch::kPadding >= simdjson::SIMDJSON_PADDING,
              "drain_inbound parses JSON in place: a batch pads its payloads for simdjson");

// Interned kind strings, created once.
nb::object kind_name(InboundKind kind) {
  static nb::object names[7];
  auto i = static_cast<std::size_t>(kind);
  if (!names[i].is_valid()) {
    static const char* const text[7] = {"auth_connect", "connect", "msg", "msg", "raw", "bin", "disconnect"};
    PyObject* s = PyUnicode_InternFromString(text[i]);
    if (s == nullptr) throw nb::python_error();
    names[i] = nb::steal(s);
  }
  return names[i];
}

// Inbound JSON keeps the short keys: `type` -> `t`, `payload` -> `p` when the short one is absent.
// The four key names as interned str objects, created once (a const char* key
// would build and hash a new str per lookup; this runs for every inbound message).
PyObject* interned(int which) {
  static PyObject* keys[4] = {nullptr, nullptr, nullptr, nullptr};
  static const char* const text[4] = {"t", "type", "p", "payload"};
  if (keys[which] == nullptr) keys[which] = PyUnicode_InternFromString(text[which]);
  return keys[which];
}

void rename_key(PyObject* d, PyObject* short_key, PyObject* long_key) {
  if (short_key == nullptr || long_key == nullptr) throw nb::python_error();
  if (PyDict_Contains(d, short_key) != 0) return;
  PyObject* v = PyDict_GetItemWithError(d, long_key);  // borrowed
  if (v == nullptr) {
    if (PyErr_Occurred()) throw nb::python_error();
    return;
  }
  Py_INCREF(v);
  const int rc = PyDict_SetItem(d, short_key, v);
  Py_DECREF(v);
  if (rc != 0 || PyDict_DelItem(d, long_key) != 0) throw nb::python_error();
}

void normalize_keys(nb::handle obj) {
  if (!PyDict_Check(obj.ptr())) return;
  rename_key(obj.ptr(), interned(0), interned(1));
  rename_key(obj.ptr(), interned(2), interned(3));
}

// What is not UTF-8 is replaced: a Cookie header may hold any bytes (text
// frames were validated by the transport).
PyObject* decode_text(std::string_view text) { return str_from_utf8(text, "replace"); }

// (kind, conn_id, data) for one event. Never throws for bad client data: what
// does not decode is handed over raw. `data` is a payload of an InboundBatch
// (padded, so JSON is parsed in place); `parser` is the thread's JSON parser.
nb::object event_tuple(InboundKind kind, std::string_view payload, const nb::object& conn_id,
                       simdjson::dom::parser& parser) {
  nb::object data;
  switch (kind) {
    case InboundKind::AuthConnect:
    case InboundKind::Connect:
    case InboundKind::Raw:
      data = nb::steal(decode_text(payload));
      break;
    case InboundKind::Msg:
      try {
        TopLevelKeys top;
        data = from_json_padded(parser, payload, top);
        if (PyDict_Check(data.ptr())) {
          if (top.type && !top.t) rename_key(data.ptr(), interned(0), interned(1));
          if (top.payload && !top.p) rename_key(data.ptr(), interned(2), interned(3));
        }
      } catch (const nb::python_error&) {
        kind = InboundKind::Raw;
        data = nb::steal(decode_text(payload));
      } catch (const std::exception&) {
        kind = InboundKind::Raw;
        data = nb::steal(decode_text(payload));
      }
      break;
    case InboundKind::MsgPack:
      try {
        data = from_msgpack(payload);
        normalize_keys(data);
      } catch (const nb::python_error&) {
        kind = InboundKind::Bin;
        data = nb::bytes(payload.data(), payload.size());
      } catch (const std::exception&) {
        kind = InboundKind::Bin;
        data = nb::bytes(payload.data(), payload.size());
      }
      break;
    case InboundKind::Bin:
      data = nb::bytes(payload.data(), payload.size());
      break;
    case InboundKind::Disconnect:
      data = nb::none();
      break;
  }
  if (!data.is_valid()) throw nb::python_error();
  PyObject* t = PyTuple_New(3);
  if (t == nullptr) throw nb::python_error();
  PyTuple_SET_ITEM(t, 0, kind_name(kind).release().ptr());
  PyTuple_SET_ITEM(t, 1, conn_id.inc_ref().ptr());
  const bool atomic_data = !PyObject_IS_GC(data.ptr());
  PyTuple_SET_ITEM(t, 2, data.release().ptr());
  // A tuple of a str, a str and a str/bytes/None cannot be part of a reference
  // cycle: untrack it now, as the collector itself would on its first pass
  // (_PyTuple_MaybeUntrack), instead of traversing it first. Tuples holding a
  // dict stay tracked (the dict may later hold the tuple).
  if (atomic_data) PyObject_GC_UnTrack(t);
  return nb::steal(t);
}

FrameRef frame_for(nb::handle data, const char* what) {
  TextOrBytes tb(data, what);
  return transport::make_frame(tb.is_text() ? protocol::Opcode::Text : protocol::Opcode::Binary, tb.view());
}

// The batched calls' fast path: a str is a text message, a bytes object a binary
// one, both read in place. nullopt for anything else (bytearray, memoryview or a
// wrong type), which the caller converts with TextOrBytes.
std::optional<std::pair<protocol::Opcode, std::string_view>> message_in_place(PyObject* data,
                                                                              const char* what) {
  if (PyUnicode_Check(data)) return std::pair{protocol::Opcode::Text, str_view(data, what)};
  if (PyBytes_Check(data))
    return std::pair{
        protocol::Opcode::Binary,
        std::string_view(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data)))};
  return std::nullopt;
}

std::vector<std::string> topic_list(nb::handle topics, const char* what) {
  if (PyUnicode_Check(topics.ptr()))
    throw nb::type_error((std::string(what) + ": topics must be a list of str, not a single str").c_str());
  std::vector<std::string> out;
  for (nb::handle t : nb::iter(topics)) {
    if (!PyUnicode_Check(t.ptr()))
      throw nb::type_error((std::string(what) + ": every topic must be str, not " + py_type_name(t)).c_str());
    out.emplace_back(str_view(t, "topic"));
    if (out.back().empty()) throw InvalidArgument(std::string(what) + ": topics must be non-empty");
  }
  return out;
}

class PyServer {
 public:
  PyServer(std::string host, int port, std::size_t max_connections, nb::object jwt_secret,
           std::optional<std::string> jwt_issuer, std::optional<std::string> jwt_audience,
           std::size_t max_inbound_queue_size, std::size_t io_threads, std::size_t max_message_size,
           std::size_t max_outbound_bytes, const std::string& slow_consumer, double heartbeat_interval,
           double idle_timeout, double rate_limit_capacity, double rate_limit_refill, int compression_level,
           std::optional<std::vector<std::string>> subscription_policy,
           std::vector<std::string> allowed_origins, bool auth_reject_http, double handshake_timeout,
           bool coalesce_bursts, bool encryption) {
    if (port < 0 || port > 65535) throw InvalidArgument("port must be between 0 and 65535");
    config_.host = std::move(host);
    config_.port = static_cast<std::uint16_t>(port);
    config_.max_connections = max_connections;
    if (!jwt_secret.is_none()) {
      if (PyUnicode_Check(jwt_secret.ptr())) {
        config_.jwt_secret = std::string(str_view(jwt_secret, "jwt_secret"));
      } else {
        BytesView secret(jwt_secret, "jwt_secret");
        config_.jwt_secret = std::string(secret.view());
      }
    }
    // Empty issuer/audience mean "not checked", as in the seed.
    if (jwt_issuer && !jwt_issuer->empty()) config_.jwt_issuer = std::move(jwt_issuer);
    if (jwt_audience && !jwt_audience->empty()) config_.jwt_audience = std::move(jwt_audience);
    config_.max_inbound_queue_size = max_inbound_queue_size;
    config_.io_threads = io_threads;
    config_.max_message_size = max_message_size;
    config_.max_outbound_bytes = max_outbound_bytes;
    if (slow_consumer == "close") {
      config_.slow_consumer = transport::SlowConsumerPolicy::Close;
    } else if (slow_consumer == "drop") {
      config_.slow_consumer = transport::SlowConsumerPolicy::Drop;
    } else {
      throw InvalidArgument("slow_consumer must be \"close\" or \"drop\"");
    }
    auto ms = [](double seconds, const char* name) {
      if (!(seconds >= 0)) throw InvalidArgument(std::string(name) + " must be >= 0 seconds");
      return static_cast<std::int64_t>(seconds * 1000.0);
    };
    config_.heartbeat_interval_ms = ms(heartbeat_interval, "heartbeat_interval");
    config_.idle_timeout_ms = ms(idle_timeout, "idle_timeout");
    config_.handshake_timeout_ms = ms(handshake_timeout, "handshake_timeout");
    config_.rate_limit_capacity = rate_limit_capacity;
    config_.rate_limit_refill = rate_limit_refill;
    config_.compression_level = compression_level;
    config_.subscription_policy = std::move(subscription_policy);
    config_.allowed_origins = std::move(allowed_origins);
    config_.auth_reject_http = auth_reject_http;
    config_.coalesce_bursts = coalesce_bursts;
    config_.encryption = encryption;
    config_.validate();
  }

  ~PyServer() {
    try {
      nb::gil_scoped_release release;
      shutdown();
    } catch (...) {
    }
  }

  void start() {
    if (server_ && server_->running()) throw OperationFailed("start(): the server is already running");
    auto fresh = std::make_unique<server::Server>(config_);
    {
      nb::gil_scoped_release release;
      fresh->start();
    }
    server_ = std::move(fresh);
    if (redis_options_) attach_broker();
    if (callbacks_set_ && !drain_mode_) start_dispatcher();
  }

  // Validates now (ValueError for a bad URL or option); connects when the server
  // runs (now, or at the next start()). A second call replaces the connection.
  void connect_redis(const std::string& url, std::optional<bool> cluster_mode, bool raw_compat,
                     std::size_t max_pending) {
    cluster::RedisBrokerOptions options;
    options.url = cluster::parse_redis_url(url);
    options.mode = !cluster_mode
                       ? cluster::RedisMode::Auto
                       : (*cluster_mode ? cluster::RedisMode::Cluster : cluster::RedisMode::Standalone);
    options.raw_compat = raw_compat;
    if (max_pending == 0) throw InvalidArgument("connect_redis: max_pending must be at least 1");
    options.max_pending = max_pending;
    // Constructing one checks the options and the TLS files before anything connects.
    auto probe = std::make_shared<cluster::RedisBroker>(options);
    redis_options_ = std::move(options);
    if (is_running()) attach_broker(std::move(probe));
  }

  void stop() {
    nb::gil_scoped_release release;
    shutdown();
  }

  bool is_running() const { return server_ && server_->running(); }
  int port() const { return server_ ? server_->port() : 0; }

  void enable_drain_mode() { drain_mode_ = true; }

  void set_callbacks(nb::object on_connect, nb::object on_message, nb::object on_disconnect) {
    if (!PyCallable_Check(on_connect.ptr()) || !PyCallable_Check(on_message.ptr()) ||
        !PyCallable_Check(on_disconnect.ptr()))
      throw nb::type_error("set_callbacks: on_connect, on_message and on_disconnect must all be callable");
    on_connect_ = std::move(on_connect);
    on_message_ = std::move(on_message);
    on_disconnect_ = std::move(on_disconnect);
    callbacks_set_ = true;
    if (is_running() && !drain_mode_) start_dispatcher();
  }

  nb::list drain_inbound(std::size_t max_count, std::int64_t timeout_ms) {
    if (max_count == 0) throw InvalidArgument("drain_inbound: max_count must be at least 1");
    std::vector<transport::InboundSlice> slices;
    std::size_t n = 0;
    {
      nb::gil_scoped_release release;
      if (server_) {
        n = server_->inbound_queue().pop(slices, max_count,
                                         std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 0)));
      } else if (timeout_ms > 0) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(timeout_ms));  // not started: nothing can arrive
      }
    }
    nb::list out = nb::steal<nb::list>(PyList_New(static_cast<Py_ssize_t>(n)));
    if (!out.is_valid()) throw nb::python_error();
    // A batch is thousands of tuples and dicts, all reachable from `out`: no
    // cyclic collection while it is built (see convert/collector.hpp).
    const CollectorPause pause;
    simdjson::dom::parser& parser = thread_json_parser();
    // Events of one connection come in runs (one read holds many messages):
    // consecutive events share one conn_id str instead of building one each.
    const transport::ConnInfo* last = nullptr;
    nb::object last_id;
    Py_ssize_t i = 0;
    for (const auto& slice : slices) {
      const transport::InboundBatch& batch = *slice.batch;
      for (std::size_t j = slice.first; j < slice.last; ++j) {
        const transport::InboundEvent& ev = batch.event(j);
        const transport::ConnInfo* conn = batch.conn(ev).get();
        if (conn != last) {
          last = conn;
          last_id = nb::steal(decode_text(conn->id()));
          if (!last_id.is_valid()) throw nb::python_error();
        }
        PyList_SET_ITEM(out.ptr(), i++,
                        event_tuple(ev.kind, batch.data(ev), last_id, parser).release().ptr());
      }
    }
    return out;
  }

  // conn_id is read as a view of the Python str (no std::string per call: send()
  // is the hot path of request/response applications).
  bool send(nb::handle conn_id, nb::handle text) {
    auto frame = transport::make_frame(protocol::Opcode::Text, str_view(text, "send: text"));
    return srv("send").send_frame(str_view(conn_id, "send: conn_id"), std::move(frame));
  }

  // Many replies in one call: one Python call, one registry lock and one task per
  // I/O thread for the batch. A run of pairs for the same conn_id object (as
  // drain_inbound() hands them out) is framed into one buffer: one allocation and
  // one queue entry for the run. Nothing is sent when an item is invalid.
  std::size_t send_many(nb::handle messages) {
    server::Server& s = srv("send_many");
    nb::object seq = nb::steal(
        PySequence_Fast(messages.ptr(), "send_many: messages must be a list of (conn_id, data) pairs"));
    if (!seq.is_valid()) throw nb::python_error();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
    // The views point into str / bytes objects that `seq` keeps alive until the frames are built.
    std::vector<std::pair<std::string_view, FrameRef>> batch;
    std::vector<std::pair<protocol::Opcode, std::string_view>> run;
    PyObject* run_conn = nullptr;
    std::string_view run_id;
    auto end_run = [&] {
      if (!run.empty())
        batch.emplace_back(run_id, FrameRef(transport::FrameBuffer::create_many(run.data(), run.size())));
      run.clear();
      run_conn = nullptr;
    };
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = items[i];
      if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        const std::string got = PyTuple_Check(item) ? "a tuple of " + std::to_string(PyTuple_GET_SIZE(item))
                                                    : py_type_name(nb::handle(item));
        throw nb::type_error(
            ("send_many: item " + std::to_string(i) + " must be a (conn_id, data) tuple, not " + got)
                .c_str());
      }
      PyObject* conn = PyTuple_GET_ITEM(item, 0);
      PyObject* data = PyTuple_GET_ITEM(item, 1);
      const auto message = message_in_place(data, "send_many: data");
      if (!message) {  // bytearray / memoryview (copied now) or a wrong type (TypeError)
        end_run();
        batch.emplace_back(str_view(conn, "send_many: conn_id"), frame_for(data, "send_many: data"));
        continue;
      }
      if (conn != run_conn) {
        end_run();
        run_id = str_view(conn, "send_many: conn_id");
        run_conn = conn;
      }
      run.push_back(*message);
    }
    end_run();
    return s.send_frames(batch);
  }

  bool send_bytes(nb::handle conn_id, nb::handle data) {
    BytesView view(data, "send_bytes: data");
    return srv("send_bytes")
        .send_frame(str_view(conn_id, "send_bytes: conn_id"),
                    transport::make_frame(protocol::Opcode::Binary, view.view()));
  }

  std::size_t send_event(const std::string& conn_id, nb::handle event, std::int64_t compression_threshold) {
    server::Server& s = srv("send_event");
    if (!PyDict_Check(event.ptr()))
      throw nb::type_error(("send_event: event must be a dict, not " + py_type_name(event)).c_str());
    nb::dict ev = nb::borrow<nb::dict>(event);
    nb::object type = ev.contains("t") ? nb::object(ev["t"])
                                       : (ev.contains("type") ? nb::object(ev["type"]) : nb::object());
    if (!type.is_valid() || !PyUnicode_Check(type.ptr()))
      throw InvalidArgument("send_event: event needs a string 't' (or 'type')");
    auto info = s.find(conn_id);
    if (!info) return 0;
    if (ev.contains("id")) {
      nb::object id = ev["id"];
      if (PyUnicode_Check(id.ptr()) && info->seen_before(std::string(str_view(id, "id")))) return 0;
    }
    const std::string_view type_text = str_view(type, "t");
    const bool has_id = ev.contains("id"), has_ts = ev.contains("ts"), has_seq = ev.contains("seq");
    const std::int64_t now = util::unix_ms();
    FrameRef frame;
    std::size_t payload_size = 0;
    if (info->msgpack) {
      nb::dict copy;
      copy["t"] = type;
      for (auto [k, v] : ev) {
        if (PyUnicode_Check(k.ptr())) {
          std::string_view key = str_view(k, "key");
          if (key == "t" || key == "v" || key == "_msg_cat" || (key == "type" && !ev.contains("t"))) continue;
        }
        copy[k] = v;
      }
      if (!has_id) {
        const auto id = util::uuid7();
        copy["id"] = nb::str(id.data(), id.size());
      }
      if (!has_ts) copy["ts"] = nb::str(util::iso8601_ms(now).c_str());
      if (!has_seq) copy["seq"] = nb::int_(info->next_seq.fetch_add(1));
      copy["v"] = nb::int_(spec::kProtocolVersion);
      std::string body(spec::kMarkerMsgpack);
      to_msgpack(copy, body);
      payload_size = body.size();
      frame = transport::make_frame(protocol::Opcode::Binary, body);
    } else {
      std::string text;
      text.reserve(256);
      std::string_view category;
      std::string explicit_cat;
      if (ev.contains("_msg_cat") && PyUnicode_Check(nb::object(ev["_msg_cat"]).ptr())) {
        explicit_cat = std::string(str_view(nb::object(ev["_msg_cat"]), "_msg_cat"));
        category = explicit_cat;
      } else {
        category = protocol::category_for_type(type_text);
      }
      text.append(category);
      text.append("{\"t\":");
      util::append_json_string(text, type_text);
      ToJsonOptions opts;
      for (auto [k, v] : ev) {
        if (!PyUnicode_Check(k.ptr())) throw nb::type_error("send_event: event keys must be str");
        std::string_view key = str_view(k, "key");
        if (key == "t" || key == "v" || key == "_msg_cat" || (key == "type" && !ev.contains("t"))) continue;
        text.push_back(',');
        util::append_json_string(text, key);
        text.push_back(':');
        to_json(v, text, opts);
      }
      if (!has_id) {
        const auto id = util::uuid7();
        text.append(",\"id\":\"").append(id.data(), id.size()).append("\"");
      }
      if (!has_ts) {
        char ts[util::kIsoMsLength];
        util::format_iso8601_ms(now, ts);
        text.append(",\"ts\":\"").append(ts, sizeof ts).append("\"");
      }
      if (!has_seq) {
        text.append(",\"seq\":");
        util::append_json_uint(text, info->next_seq.fetch_add(1));
      }
      text.append(",\"v\":1}");
      if (compression_threshold > 0 && info->compression &&
          text.size() > static_cast<std::size_t>(compression_threshold)) {
        std::string body(spec::kMarkerCompressed);
        body.append(compression::zlib_compress(text, s.config().compression_level));
        payload_size = body.size();
        frame = transport::make_frame(protocol::Opcode::Binary, body);
      } else {
        payload_size = text.size();
        frame = transport::make_frame(protocol::Opcode::Text, text);
      }
    }
    return s.send_frame(*info, std::move(frame)) ? payload_size : 0;
  }

  void broadcast(nb::handle data) { srv("broadcast").broadcast(frame_for(data, "broadcast: data")); }
  void broadcast_bytes(nb::handle data) {
    BytesView view(data, "broadcast_all_bytes: data");
    srv("broadcast_all_bytes").broadcast(transport::make_frame(protocol::Opcode::Binary, view.view()));
  }

  void publish_local(nb::handle topic, nb::handle data) {
    const std::string_view t = str_view(topic, "publish_local: topic");
    if (t.empty()) throw InvalidArgument("publish_local: topic must be non-empty");
    srv("publish_local").publish_local(t, frame_for(data, "publish_local: data"));
  }

  void publish(nb::handle topic, nb::handle data) {
    const std::string_view t = str_view(topic, "publish: topic");
    if (t.empty()) throw InvalidArgument("publish: topic must be non-empty");
    TextOrBytes payload(data, "publish: data");
    srv("publish").publish(t, payload.view(), !payload.is_text());
  }

  // Many messages on one topic in one call, in order. Without Redis they are
  // framed back to back into shared buffers of up to kPublishManyBytes: each
  // subscriber queues one reference per buffer instead of one per message, and
  // the call costs one Python call and one mailbox post per buffer. With
  // connect_redis() each message goes through publish(). Nothing is published
  // when an item is invalid.
  std::size_t publish_many(nb::handle topic, nb::handle messages) {
    const std::string_view t = str_view(topic, "publish_many: topic");
    if (t.empty()) throw InvalidArgument("publish_many: topic must be non-empty");
    server::Server& s = srv("publish_many");
    if (PyUnicode_Check(messages.ptr()) || PyBytes_Check(messages.ptr()))
      throw nb::type_error(
          "publish_many: messages must be a list of str or bytes, not a single str or bytes");
    nb::object seq =
        nb::steal(PySequence_Fast(messages.ptr(), "publish_many: messages must be a list of str or bytes"));
    if (!seq.is_valid()) throw nb::python_error();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
    // Views into the str / bytes objects `seq` keeps alive; bytearray and
    // memoryview items are held by `others` (a deque: its elements never move).
    std::vector<std::pair<protocol::Opcode, std::string_view>> parts;
    parts.reserve(static_cast<std::size_t>(n));
    std::deque<TextOrBytes> others;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = items[i];
      if (const auto message = message_in_place(item, "publish_many: item")) {
        parts.push_back(*message);
      } else {
        const std::string what = "publish_many: item " + std::to_string(i);
        const TextOrBytes& tb = others.emplace_back(nb::handle(item), what.c_str());
        parts.emplace_back(tb.is_text() ? protocol::Opcode::Text : protocol::Opcode::Binary, tb.view());
      }
    }
    if (s.broker()) {
      for (const auto& [op, data] : parts) s.publish(t, data, op == protocol::Opcode::Binary);
      return parts.size();
    }
    std::size_t first = 0, bytes = 0;
    for (std::size_t i = 0; i <= parts.size(); ++i) {
      if (i == parts.size() || (i > first && bytes + parts[i].second.size() > kPublishManyBytes)) {
        if (i > first)
          s.publish_local(t, FrameRef(transport::FrameBuffer::create_many(parts.data() + first, i - first)));
        first = i;
        bytes = 0;
      }
      if (i < parts.size()) bytes += parts[i].second.size();
    }
    return parts.size();
  }

  bool redis_connected() const { return broker_ && broker_->health().connected; }

  nb::list dlq_entries() {
    nb::list out;
    if (!broker_) return out;
    std::vector<server::DeadLetter> entries;
    {
      nb::gil_scoped_release release;
      entries = broker_->drain_dead_letters();
    }
    for (auto& e : entries) {
      nb::dict d;
      d["channel"] = nb::steal(
          PyUnicode_DecodeUTF8(e.channel.data(), static_cast<Py_ssize_t>(e.channel.size()), "replace"));
      if (e.binary) {
        d["payload"] = nb::bytes(e.payload.data(), e.payload.size());
      } else {
        d["payload"] = nb::steal(
            PyUnicode_DecodeUTF8(e.payload.data(), static_cast<Py_ssize_t>(e.payload.size()), "replace"));
      }
      d["error"] = nb::str(e.error.c_str(), e.error.size());
      out.append(d);
    }
    return out;
  }

  bool subscribe_connection(const std::string& conn_id, nb::handle topics) {
    return srv("subscribe_connection").subscribe(conn_id, topic_list(topics, "subscribe_connection"));
  }

  bool unsubscribe_connection(const std::string& conn_id, nb::handle topics) {
    std::optional<std::vector<std::string>> list;
    if (!topics.is_none()) list = topic_list(topics, "unsubscribe_connection");
    return srv("unsubscribe_connection").unsubscribe(conn_id, list);
  }

  std::size_t topic_subscriber_count(const std::string& topic) const {
    return server_ ? server_->topic_subscriber_count(topic) : 0;
  }
  std::vector<std::string> connection_topics(const std::string& conn_id) const {
    return server_ ? server_->connection_topics(conn_id) : std::vector<std::string>{};
  }
  std::size_t connection_count() const {
    return server_ && server_->running() ? server_->connection_count() : 0;
  }
  std::vector<std::string> connections() const {
    return server_ && server_->running() ? server_->connection_ids() : std::vector<std::string>{};
  }

  bool disconnect(const std::string& conn_id, int code, const std::string& reason) {
    if (code < 1000 || code > 4999)
      throw InvalidArgument("disconnect: close code must be between 1000 and 4999");
    return srv("disconnect").disconnect(conn_id, static_cast<std::uint16_t>(code), reason);
  }

  nb::dict health_snapshot() const {
    server::Health h;
    if (server_) h = server_->health();
    nb::dict d;
    d["connections"] = h.connections;
    d["inbound_queue_depth"] = h.inbound_queue_depth;
    d["inbound_dropped"] = h.inbound_dropped;
    // The seed's Redis keys (zeros without connect_redis), then ours.
    server::BrokerHealth b;
    if (broker_) b = broker_->health();
    d["redis_connected"] = b.connected;
    d["redis_messages_received"] = b.messages_received;
    d["redis_messages_published"] = b.messages_published;
    d["redis_messages_delivered"] = b.messages_delivered;
    d["redis_messages_dropped"] = b.messages_dropped;
    d["redis_publish_errors"] = b.publish_errors;
    d["redis_reconnect_count"] = b.reconnect_count;
    d["redis_dlq_size"] = b.dlq_size;
    d["uptime_secs"] = h.uptime_secs;
    d["redis_mode"] = broker_ ? b.mode : std::string("off");
    d["redis_duplicates_suppressed"] = b.duplicates_suppressed;
    d["redis_pending"] = b.pending;
    d["redis_subscriptions"] = b.subscriptions;
    d["redis_nodes"] = b.nodes;
    d["redis_nodes_connected"] = b.nodes_connected;
    d["redis_dlq_evicted"] = b.dlq_evicted;
    d["redis_cluster_patterns"] = b.cluster_patterns;
    d["redis_lane_copy_errors"] = b.lane_copy_errors;
    d["redis_connect_breaker"] = b.connect_breaker;
    d["redis_publish_breaker"] = b.publish_breaker;
    d["redis_last_error"] = b.last_error;
    d["running"] = is_running();
    d["io_threads"] = h.io_threads;
    d["inbound_drained"] = h.inbound_drained;
    d["connections_opened"] = h.connections_opened;
    d["connections_closed"] = h.connections_closed;
    d["handshakes_rejected"] = h.handshakes_rejected;
    d["auth_failures"] = h.auth_failures;
    d["messages_received"] = h.messages_in;
    d["bytes_received"] = h.bytes_in;
    d["frames_sent"] = h.frames_out;
    d["bytes_sent"] = h.bytes_out;
    d["write_calls"] = h.write_calls;
    d["deliveries"] = h.deliveries;
    d["slow_consumer_closed"] = h.slow_consumer_closed;
    d["slow_consumer_dropped"] = h.slow_consumer_dropped;
    d["rate_limited"] = h.rate_limited;
    d["protocol_errors"] = h.protocol_errors;
    d["idle_closed"] = h.idle_closed;
    d["pings_answered"] = h.pings_answered;
    return d;
  }

  std::size_t inbound_queue_depth() const { return server_ ? server_->inbound_queue().depth() : 0; }
  std::uint64_t inbound_dropped_count() const { return server_ ? server_->inbound_queue().dropped() : 0; }

 private:
  server::Server& srv(const char* what) const {
    if (!server_ || !server_->running())
      throw NotRunning(std::string(what) + ": the server is not running (call start() first)");
    return *server_;
  }

  void attach_broker(std::shared_ptr<cluster::RedisBroker> broker = nullptr) {
    if (!broker) broker = std::make_shared<cluster::RedisBroker>(*redis_options_);
    nb::gil_scoped_release release;
    server_->set_broker(broker);  // stops (and joins) the previous one
    broker_ = std::move(broker);
  }

  // Called without the GIL.
  void shutdown() {
    if (server_) server_->stop();
    dispatcher_stop_.store(true);
    if (dispatcher_.joinable()) dispatcher_.join();
    dispatcher_stop_.store(false);
  }

  // Callback mode: one thread takes batches off the queue and calls Python.
  void start_dispatcher() {
    if (dispatcher_.joinable()) return;
    server::Server* s = server_.get();
    dispatcher_ = std::thread([this, s] {
      std::vector<transport::InboundSlice> slices;
      while (!dispatcher_stop_.load()) {
        slices.clear();
        if (s->inbound_queue().pop(slices, 256, std::chrono::milliseconds(50)) == 0) {
          if (!s->running() && s->inbound_queue().depth() == 0) break;
          continue;
        }
        nb::gil_scoped_acquire gil;
        simdjson::dom::parser& parser = thread_json_parser();
        for (const auto& slice : slices) {
          for (std::size_t j = slice.first; j < slice.last; ++j) {
            const transport::InboundEvent& ev = slice.batch->event(j);
            const transport::ConnInfo& info = *slice.batch->conn(ev);
            try {
              nb::object t = event_tuple(ev.kind, slice.batch->data(ev),
                                         nb::str(info.id().data(), info.id().size()), parser);
              nb::object conn = t[1];
              nb::object data = t[2];
              const std::string_view kind = nb::cast<std::string_view>(t[0]);
              if (kind == "connect" || kind == "auth_connect") {
                on_connect_(conn, data);
              } else if (kind == "disconnect") {
                on_disconnect_(conn);
              } else {
                on_message_(conn, data);
              }
            } catch (nb::python_error& e) {
              e.discard_as_unraisable("WSEServer callback");
            } catch (const std::exception& e) {
              PyErr_WarnEx(PyExc_RuntimeWarning, e.what(), 1);
            }
          }
        }
      }
    });
  }

  transport::ServerConfig config_;
  std::unique_ptr<server::Server> server_;
  std::optional<cluster::RedisBrokerOptions> redis_options_;
  // The current broker, or the last one after stop(): its health and dead letters stay readable.
  std::shared_ptr<cluster::RedisBroker> broker_;
  bool drain_mode_ = false;
  bool callbacks_set_ = false;
  nb::object on_connect_, on_message_, on_disconnect_;
  std::thread dispatcher_;
  std::atomic<bool> dispatcher_stop_{false};
};

}  // namespace

void register_server(nb::module_& m) {
  nb::class_<PyServer>(
      m, "WSEServer",
      "The standalone WebSocket server: accept, upgrade, JWT, framing, ping/pong, rate limiting,\n"
      "compression and topic fan-out run on native I/O threads; Python steers it and drains\n"
      "inbound events in batches. See docs/PROTOCOL.md for the wire protocol and README.md\n"
      "for every option and its default.")
      .def(
          nb::init<std::string, int, std::size_t, nb::object, std::optional<std::string>,
                   std::optional<std::string>, std::size_t, std::size_t, std::size_t, std::size_t,
                   const std::string&, double, double, double, double, int,
                   std::optional<std::vector<std::string>>, std::vector<std::string>, bool, double, bool,
                   bool>(),
          nb::sig(
              "def __init__(self, host: str, port: int, max_connections: int = 1000, "
              "jwt_secret: bytes | str | None = None, jwt_issuer: str | None = None, "
              "jwt_audience: str | None = None, max_inbound_queue_size: int = 131072, *, "
              "io_threads: int = 0, max_message_size: int = 1048576, max_outbound_bytes: int = 4194304, "
              "slow_consumer: str = 'close', heartbeat_interval: float = 15.0, idle_timeout: float = 90.0, "
              "rate_limit_capacity: float = 10000.0, rate_limit_refill: float = 10000.0, "
              "compression_level: int = 1, subscription_policy: collections.abc.Sequence[str] | None = None, "
              "allowed_origins: collections.abc.Sequence[str] = [], auth_reject_http: bool = False, "
              "handshake_timeout: float = 10.0, coalesce_bursts: bool = True, encryption: bool = True) -> "
              "None"),
          nb::arg("host"), nb::arg("port"), nb::arg("max_connections") = 1000,
          nb::arg("jwt_secret").none() = nb::none(), nb::arg("jwt_issuer") = nb::none(),
          nb::arg("jwt_audience") = nb::none(), nb::arg("max_inbound_queue_size") = 131072, nb::kw_only(),
          nb::arg("io_threads") = 0, nb::arg("max_message_size") = 1048576,
          nb::arg("max_outbound_bytes") = 4194304, nb::arg("slow_consumer") = "close",
          nb::arg("heartbeat_interval") = 15.0, nb::arg("idle_timeout") = 90.0,
          nb::arg("rate_limit_capacity") = 10000.0, nb::arg("rate_limit_refill") = 10000.0,
          nb::arg("compression_level") = 1, nb::arg("subscription_policy") = nb::none(),
          nb::arg("allowed_origins") = std::vector<std::string>{}, nb::arg("auth_reject_http") = false,
          nb::arg("handshake_timeout") = 10.0, nb::arg("coalesce_bursts") = true,
          nb::arg("encryption") = true,
          "Creates a stopped server. Raises ValueError on an invalid option. jwt_secret (bytes or str)\n"
          "enables HS256 JWT checks on upgrade; port 0 picks a free port (see .port after start()).\n"
          "encryption=True offers ECDH + AES-GCM to clients that connect with ?encryption=true.")
      .def("start", &PyServer::start,
           "Binds, listens and starts the I/O threads. RuntimeError if already running or the port is taken.")
      .def("stop", &PyServer::stop,
           "Graceful stop: close frames (1012) to every client, flush, join the threads. Idempotent.\n"
           "start() may be called again afterwards.")
      .def("is_running", &PyServer::is_running)
      .def_prop_ro("port", &PyServer::port, "The bound port (0 before start()).")
      .def("enable_drain_mode", &PyServer::enable_drain_mode,
           "Deliver inbound events through drain_inbound() only, never through callbacks (the default\n"
           "when no callbacks are set).")
      .def("set_callbacks", &PyServer::set_callbacks,
           nb::sig("def set_callbacks(self, on_connect: collections.abc.Callable[[str, typing.Any], object], "
                   "on_message: collections.abc.Callable[[str, typing.Any], object], on_disconnect: "
                   "collections.abc.Callable[[str], object]) -> None"),
           nb::arg("on_connect"), nb::arg("on_message"), nb::arg("on_disconnect"),
           "Callback mode: on_connect(conn_id, user_id_or_cookie), on_message(conn_id, dict|str|bytes),\n"
           "on_disconnect(conn_id), called from one native thread holding the GIL.")
      .def("drain_inbound", &PyServer::drain_inbound,
           nb::sig("def drain_inbound(self, max_count: int = 256, timeout_ms: int = 50) -> list[tuple[str, "
                   "str, typing.Any]]"),
           nb::arg("max_count") = 256, nb::arg("timeout_ms") = 50,
           "Waits up to timeout_ms (GIL released) for events, then returns up to max_count tuples\n"
           "(kind, conn_id, data), kind in auth_connect/connect/msg/raw/bin/disconnect; [] on timeout.")
      .def("send", &PyServer::send, nb::sig("def send(self, conn_id: str, text: str) -> bool"),
           nb::arg("conn_id"), nb::arg("text"),
           "Queues one text frame, verbatim. False if the connection is unknown or closed.")
      .def("send_many", &PyServer::send_many,
           nb::sig(
               "def send_many(self, messages: collections.abc.Iterable[tuple[str, str | bytes | bytearray | "
               "memoryview]]) -> int"),
           nb::arg("messages"),
           "Queues many frames in one call: (conn_id, data) pairs, str data as a text frame, bytes as\n"
           "binary, each connection's in list order. Pairs for unknown or closed connections are skipped.\n"
           "Returns how many were queued.")
      .def("send_bytes", &PyServer::send_bytes,
           nb::sig("def send_bytes(self, conn_id: str, data: bytes | bytearray | memoryview) -> bool"),
           nb::arg("conn_id"), nb::arg("data"),
           "Queues one binary frame, verbatim. False if the connection is unknown or closed.")
      .def("send_event", &PyServer::send_event,
           nb::sig("def send_event(self, conn_id: str, event: dict[str, typing.Any], compression_threshold: "
                   "int = 1024) -> int"),
           nb::arg("conn_id"), nb::arg("event"), nb::arg("compression_threshold") = 1024,
           "Wraps the event in the envelope (id, ts, per-connection seq, v), picks its category prefix,\n"
           "compresses above compression_threshold (C:) or packs msgpack (M:) for ?format=msgpack clients.\n"
           "Returns the payload bytes queued; 0 for an unknown connection or an id already sent to it.")
      .def("broadcast", &PyServer::broadcast, nb::sig("def broadcast(self, data: str | bytes) -> None"),
           nb::arg("data"), "Sends str (text frame) or bytes (binary frame) to every open connection.")
      .def("broadcast_all", &PyServer::broadcast,
           nb::sig("def broadcast_all(self, data: str | bytes) -> None"), nb::arg("data"),
           "Alias of broadcast().")
      .def("broadcast_all_bytes", &PyServer::broadcast_bytes,
           nb::sig("def broadcast_all_bytes(self, data: bytes | bytearray | memoryview) -> None"),
           nb::arg("data"), "broadcast() for bytes.")
      .def("publish_local", &PyServer::publish_local,
           nb::sig("def publish_local(self, topic: str, data: str | bytes) -> None"), nb::arg("topic"),
           nb::arg("data"),
           "Delivers data (str -> text frame, bytes -> binary) to every subscriber of topic on this\n"
           "instance, exact or glob, once per connection. The frame is built once and shared.")
      .def("broadcast_local", &PyServer::publish_local,
           nb::sig("def broadcast_local(self, topic: str, data: str | bytes) -> None"), nb::arg("topic"),
           nb::arg("data"), "Alias of publish_local().")
      .def("publish", &PyServer::publish, nb::sig("def publish(self, topic: str, data: str | bytes) -> None"),
           nb::arg("topic"), nb::arg("data"),
           "After connect_redis(): publishes on the Redis channel wse:<topic> so every instance (this one\n"
           "included) delivers it exactly once to its subscribers. Never blocks: when Redis cannot take it,\n"
           "the message goes to the dead-letter queue (get_dlq_entries()). Without Redis: publish_local().")
      .def(
          "publish_many", &PyServer::publish_many,
          nb::sig(
              "def publish_many(self, topic: str, messages: collections.abc.Sequence[str | bytes | bytearray "
              "| memoryview]) -> int"),
          nb::arg("topic"), nb::arg("messages"),
          "publish() for many messages on one topic, in order, in one call: without Redis they are\n"
          "framed back to back into shared buffers of up to 64 KiB (one queue entry per subscriber per\n"
          "buffer). Nothing is published if an item is not str or bytes. Returns the message count.")
      .def("connect_redis", &PyServer::connect_redis,
           nb::sig(
               "def connect_redis(self, url: str, *, cluster: bool | None = None, raw_compat: bool = False, "
               "max_pending: int = 1000000) -> None"),
           nb::arg("url"), nb::kw_only(), nb::arg("cluster") = nb::none(), nb::arg("raw_compat") = false,
           nb::arg("max_pending") = 1000000,
           "Scales out through Redis: redis://[[user]:password@]host[:port][/db] or rediss:// (TLS; options\n"
           "ssl_ca_certs, ssl_cert_reqs, ssl_certfile, ssl_keyfile, ssl_check_hostname, connect_timeout).\n"
           "Returns at once; the connection is made in the background, before or after start().\n"
           "cluster=None asks the server (Redis Cluster -> sharded pub/sub); True/False forces the mode.\n"
           "raw_compat=True speaks WSE 1.4's wire format (PSUBSCRIBE wse:*, raw payloads). max_pending caps\n"
           "the publishes queued towards Redis. ValueError for a bad URL or option.")
      .def("redis_connected", &PyServer::redis_connected,
           "True while every Redis connection the broker needs is up.")
      .def("get_dlq_entries", &PyServer::dlq_entries,
           nb::sig("def get_dlq_entries(self) -> list[dict[str, typing.Any]]"),
           "Removes and returns the dead letters, oldest first: {channel, payload, error} dicts (payload\n"
           "is bytes for binary publishes). At most the last 1000 are kept.")
      .def("subscribe_connection", &PyServer::subscribe_connection,
           nb::sig(
               "def subscribe_connection(self, conn_id: str, topics: collections.abc.Sequence[str]) -> bool"),
           nb::arg("conn_id"), nb::arg("topics"),
           "Subscribes a connection to topics ('*' and '?' globs allowed). False if the connection is "
           "unknown.")
      .def("unsubscribe_connection", &PyServer::unsubscribe_connection,
           nb::sig("def unsubscribe_connection(self, conn_id: str, topics: collections.abc.Sequence[str] | "
                   "None = None) -> bool"),
           nb::arg("conn_id"), nb::arg("topics") = nb::none(),
           "Removes the given topics, or all of them when topics is None.")
      .def("get_topic_subscriber_count", &PyServer::topic_subscriber_count, nb::arg("topic"),
           "Connections subscribed to exactly this topic string (a pattern counts under its own text).")
      .def("get_connection_topics", &PyServer::connection_topics, nb::arg("conn_id"),
           "Sorted topics of a connection ([] if unknown).")
      .def("get_connection_count", &PyServer::connection_count)
      .def("get_connections", &PyServer::connections, "conn_ids of the open connections.")
      .def("disconnect", &PyServer::disconnect, nb::arg("conn_id"), nb::arg("code") = 1000,
           nb::arg("reason") = "",
           "Closes a connection with a close frame. False if unknown. ValueError for an invalid code.")
      .def("health_snapshot", &PyServer::health_snapshot,
           nb::sig("def health_snapshot(self) -> dict[str, typing.Any]"),
           "Counters: the seed's keys (connections, inbound_*, redis_*, uptime_secs) and ours.")
      .def("inbound_queue_depth", &PyServer::inbound_queue_depth)
      .def("inbound_dropped_count", &PyServer::inbound_dropped_count);
  export_name(m, "WSEServer");
  export_alias(m, "RustWSEServer", "WSEServer");
}

}  // namespace wse::py
