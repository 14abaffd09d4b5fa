// Sequencer and EventSequencer over Python objects. GIL-serialised: every call
// is atomic with respect to other Python threads.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "convert/buffer.hpp"
#include "exports.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/sequencer.hpp"

namespace wse::py {

namespace {

constexpr double kBufferMaxAge = 300.0;  // seconds a buffered event may wait for its gap

std::size_t positive(std::int64_t v, const char* name) {
  if (v <= 0) throw InvalidArgument(std::string(name) + " must be a positive integer");
  return static_cast<std::size_t>(v);
}

std::string event_id(nb::handle id) {
  if (PyUnicode_Check(id.ptr())) return std::string(str_view(id, "event_id"));
  if (PyLong_Check(id.ptr())) return std::string(nb::str(id).c_str());
  throw nb::type_error("event_id must be str or int");
}

class PySequencer {
 public:
  explicit PySequencer(std::int64_t window_size) : seen_(positive(window_size, "window_size")) {}
  std::uint64_t next_seq() { return ++seq_; }
  std::uint64_t current() const { return seq_; }
  bool is_duplicate(nb::handle id) { return seen_.seen(event_id(id), util::monotonic_s()); }
  void cleanup(double max_age_secs) {
    if (!(max_age_secs >= 0)) throw InvalidArgument("max_age_secs must be >= 0");
    seen_.forget_before(util::monotonic_s() - max_age_secs);
  }
  std::size_t seen_count() const { return seen_.size(); }

 private:
  std::uint64_t seq_ = 0;
  util::DedupWindow seen_;
};

class PyEventSequencer {
 public:
  PyEventSequencer(std::int64_t window_size, std::int64_t max_out_of_order)
      : seen_(positive(window_size, "window_size")), seq_(positive(max_out_of_order, "max_out_of_order")) {}

  std::uint64_t next_seq() { return ++counter_; }
  std::uint64_t current() const { return counter_; }
  bool is_duplicate(nb::handle id) {
    const bool dup = seen_.seen(event_id(id), util::monotonic_s());
    if (dup) ++duplicates_;
    return dup;
  }

  nb::object process(const std::string& topic, std::int64_t sequence, nb::object event) {
    if (sequence < 0) throw InvalidArgument("sequence must be >= 0");
    auto out =
        seq_.process(topic, static_cast<std::uint64_t>(sequence), std::move(event), util::monotonic_s());
    if (!out) return nb::none();
    nb::list list;
    for (auto& e : *out) list.append(std::move(e));
    return list;
  }

  void reset(std::optional<std::string> topic) { seq_.reset(topic); }

  void cleanup() {
    seq_.cleanup(util::monotonic_s(), kBufferMaxAge);
    if (seen_.size() > seen_.window()) seen_.forget_before(-1.0);
  }

  nb::dict sequence_stats() const {
    nb::dict topics;
    std::size_t total_buffered = 0;
    for (const auto& [name, t] : seq_.topics()) {
      nb::list gaps, buffered;
      std::uint64_t cursor = t.expected;
      for (const auto& [s, b] : t.buffer) {
        buffered.append(s);
        if (s > cursor) {
          nb::dict g;
          g["start"] = cursor;
          g["end"] = s - 1;
          g["size"] = s - cursor;
          gaps.append(g);
        }
        cursor = s + 1;
      }
      nb::dict d;
      d["expected"] = t.expected;
      d["buffered"] = t.buffer.size();
      d["gaps"] = gaps;
      d["buffered_sequences"] = buffered;
      topics[nb::str(name.data(), name.size())] = d;
      total_buffered += t.buffer.size();
    }
    nb::dict d;
    d["current_sequence"] = counter_;
    d["duplicate_count"] = duplicates_;
    d["out_of_order_count"] = seq_.out_of_order();
    d["dropped_count"] = seq_.dropped();
    d["topics"] = topics;
    d["total_topics"] = seq_.topics().size();
    d["total_buffered"] = total_buffered;
    d["seen_ids_count"] = seen_.size();
    return d;
  }

  nb::dict buffer_stats() const {
    nb::dict topics;
    std::size_t total = 0;
    const double now = util::monotonic_s();
    for (const auto& [name, t] : seq_.topics()) {
      if (t.buffer.empty()) continue;
      nb::list seqs;
      double oldest = now;
      for (const auto& [s, b] : t.buffer) {
        seqs.append(s);
        oldest = std::min(oldest, b.received_at);
      }
      nb::dict d;
      d["expected_sequence"] = t.expected;
      d["buffered_count"] = t.buffer.size();
      d["buffered_sequences"] = seqs;
      d["gap_size"] = t.buffer.begin()->first - t.expected;
      d["oldest_buffered_age"] = now - oldest;
      topics[nb::str(name.data(), name.size())] = d;
      total += t.buffer.size();
    }
    nb::dict d;
    d["total_topics"] = topics.size();
    d["total_buffered"] = total;
    d["topics"] = topics;
    return d;
  }

 private:
  util::DedupWindow seen_;
  util::EventSequencer<nb::object> seq_;
  std::uint64_t counter_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace

void register_sequencing(nb::module_& m) {
  nb::class_<PySequencer>(m, "Sequencer", "Monotonic counter with sliding-window duplicate detection.")
      .def(nb::init<std::int64_t>(), nb::arg("window_size") = 10000)
      .def("next_seq", &PySequencer::next_seq, "Increments and returns the counter (1, 2, ...).")
      .def("get_current_seq", &PySequencer::current)
      .def("is_duplicate", &PySequencer::is_duplicate, nb::arg("event_id"),
           nb::sig("def is_duplicate(self, event_id: str | int) -> bool"),
           "True if the id is in the window; otherwise records it and returns False.")
      .def("cleanup", &PySequencer::cleanup, nb::arg("max_age_secs") = 300.0,
           "Forgets ids recorded more than max_age_secs ago.")
      .def("seen_count", &PySequencer::seen_count);
  nb::class_<PyEventSequencer>(m, "EventSequencer",
                               "Per-topic ordered delivery with out-of-order buffering and gap detection\n"
                               "(see docs/UTILITIES.md for the exact rules).")
      .def(nb::init<std::int64_t, std::int64_t>(), nb::arg("window_size") = 10000,
           nb::arg("max_out_of_order") = 100)
      .def("next_seq", &PyEventSequencer::next_seq)
      .def("get_current_sequence", &PyEventSequencer::current)
      .def("is_duplicate", &PyEventSequencer::is_duplicate, nb::arg("event_id"),
           nb::sig("def is_duplicate(self, event_id: str | int) -> bool"))
      .def("process_sequenced_event", &PyEventSequencer::process, nb::arg("topic"), nb::arg("sequence"),
           nb::arg("event").none(),
           nb::sig("def process_sequenced_event(self, topic: str, sequence: int, event: typing.Any) -> "
                   "list[typing.Any] | None"),
           "Events to deliver now, in order, or None when the event was buffered or rejected.")
      .def("reset_sequence", &PyEventSequencer::reset, nb::arg("topic") = nb::none(),
           "Forgets one topic, or all topics when topic is None.")
      .def("get_sequence_stats", &PyEventSequencer::sequence_stats,
           nb::sig("def get_sequence_stats(self) -> dict[str, typing.Any]"))
      .def("get_buffer_stats", &PyEventSequencer::buffer_stats,
           nb::sig("def get_buffer_stats(self) -> dict[str, typing.Any]"))
      .def("cleanup", &PyEventSequencer::cleanup,
           "Drops buffered events older than 5 minutes, forgets idle topics, trims the id window.");
  export_name(m, "Sequencer");
  export_name(m, "EventSequencer");
  export_alias(m, "RustSequencer", "Sequencer");
  export_alias(m, "RustEventSequencer", "EventSequencer");
}

}  // namespace wse::py
