// PriorityQueue and PriorityMessageQueue over Python objects. Thread-safety:
// every method runs with the GIL held and never releases it, so each call is
// atomic with respect to other Python threads.
#include <nanobind/stl/string.h>

#include "exports.hpp"
#include "wse/util/clock.hpp"
#include "wse/util/errors.hpp"
#include "wse/util/priority_message_queue.hpp"
#include "wse/util/priority_queue.hpp"

namespace wse::py {

namespace {

std::size_t positive(std::int64_t v, const char* name) {
  if (v <= 0) throw InvalidArgument(std::string(name) + " must be a positive integer");
  return static_cast<std::size_t>(v);
}

class PyPriorityQueue {
 public:
  explicit PyPriorityQueue(std::int64_t max_size) : q_(positive(max_size, "max_size")) {}
  bool push(std::int64_t priority, nb::object message) { return q_.push(priority, std::move(message)); }
  nb::object pop() {
    auto v = q_.pop();
    return v ? std::move(*v) : nb::none();
  }
  nb::list drain(std::int64_t max_count) {
    if (max_count < 0) throw InvalidArgument("max_count must be >= 0");
    nb::list out;
    for (std::int64_t i = 0; i < max_count; ++i) {
      auto v = q_.pop();
      if (!v) break;
      out.append(std::move(*v));
    }
    return out;
  }
  std::size_t len() const { return q_.size(); }
  bool is_full() const { return q_.full(); }
  bool is_empty() const { return q_.empty(); }
  void clear() { q_.clear(); }

 private:
  util::PriorityQueue<nb::object> q_;
};

class PyPriorityMessageQueue {
 public:
  PyPriorityMessageQueue(std::int64_t max_size, std::int64_t batch_size)
      : q_(positive(max_size, "max_size"), positive(batch_size, "batch_size")) {}
  bool enqueue(nb::object message, std::int64_t priority) {
    return q_.enqueue(std::move(message), priority, util::monotonic_s());
  }
  nb::list dequeue_batch() {
    nb::list out;
    for (auto& item : q_.dequeue_batch()) out.append(nb::make_tuple(item.priority, std::move(item.value)));
    return out;
  }
  std::size_t size() const { return q_.size(); }
  void clear() { q_.clear(); }
  nb::dict get_stats() const {
    nb::dict d, dist, depths, dropped;
    for (std::size_t i = 0; i < util::kPriorityLevels.size(); ++i) {
      const int level = util::kPriorityLevels[i];
      dist[nb::int_(level)] = q_.depth(i);
      depths[("priority_" + std::to_string(level) + "_depth").c_str()] = q_.depth(i);
      dropped[nb::int_(level)] = q_.dropped(i);
    }
    const double size = static_cast<double>(q_.size());
    const double cap = static_cast<double>(q_.max_size());
    d["size"] = q_.size();
    d["capacity"] = q_.max_size();
    d["utilization_percent"] = size / cap * 100.0;
    d["priority_distribution"] = dist;
    d["priority_queue_depths"] = depths;
    d["dropped_by_priority"] = dropped;
    d["total_dropped"] = q_.total_dropped();
    d["backpressure"] = size > 0.8 * cap;
    const auto oldest = q_.oldest_enqueued_at();
    d["oldest_message_age"] = oldest ? nb::object(nb::float_(util::monotonic_s() - *oldest)) : nb::none();
    d["processing_rate"] = 0.0;
    return d;
  }

 private:
  util::PriorityMessageQueue<nb::object> q_;
};

}  // namespace

void register_queues(nb::module_& m) {
  nb::class_<PyPriorityQueue>(
      m, "PriorityQueue", "Bounded priority queue of any objects: higher priority first, FIFO among equals.")
      .def(nb::init<std::int64_t>(), nb::arg("max_size") = 1000, "ValueError unless max_size > 0.")
      .def("push", &PyPriorityQueue::push, nb::arg("priority"), nb::arg("message").none(),
           nb::sig("def push(self, priority: int, message: typing.Any) -> bool"),
           "Adds a message; False when the queue is full.")
      .def("pop", &PyPriorityQueue::pop, nb::sig("def pop(self) -> typing.Any"),
           "The highest-priority message, or None when empty.")
      .def("drain", &PyPriorityQueue::drain, nb::arg("max_count"),
           nb::sig("def drain(self, max_count: int) -> list[typing.Any]"),
           "Up to max_count messages in order.")
      .def("len", &PyPriorityQueue::len, "Current number of messages.")
      .def("__len__", &PyPriorityQueue::len)
      .def("is_full", &PyPriorityQueue::is_full)
      .def("is_empty", &PyPriorityQueue::is_empty)
      .def("clear", &PyPriorityQueue::clear);
  nb::class_<PyPriorityMessageQueue>(
      m, "PriorityMessageQueue",
      "Five-level message queue (10, 8, 5, 3, 1) with smart dropping when full and batch dequeue.\n"
      "Other priorities snap to the nearest level (ties go up). When full, the oldest message of the\n"
      "lowest non-empty level among BACKGROUND/LOW/NORMAL is evicted to make room; when only HIGH and\n"
      "CRITICAL messages are queued the arrival is refused. HIGH and CRITICAL are never evicted.")
      .def(nb::init<std::int64_t, std::int64_t>(), nb::arg("max_size") = 1000, nb::arg("batch_size") = 10)
      .def("enqueue", &PyPriorityMessageQueue::enqueue, nb::arg("message").none(), nb::arg("priority") = 5,
           nb::sig("def enqueue(self, message: typing.Any, priority: int = 5) -> bool"),
           "True if accepted (possibly after evicting a lower message).")
      .def("dequeue_batch", &PyPriorityMessageQueue::dequeue_batch,
           nb::sig("def dequeue_batch(self) -> list[tuple[int, typing.Any]]"),
           "Up to batch_size (priority, message) tuples, highest level first, FIFO within a level.")
      .def_prop_ro("size", &PyPriorityMessageQueue::size, "Current number of messages.")
      .def("__len__", &PyPriorityMessageQueue::size)
      .def("clear", &PyPriorityMessageQueue::clear, "Empties the queue and resets the drop counters.")
      .def("get_stats", &PyPriorityMessageQueue::get_stats,
           nb::sig("def get_stats(self) -> dict[str, typing.Any]"),
           "size, capacity, utilization_percent, priority_distribution, priority_queue_depths,\n"
           "dropped_by_priority, total_dropped, backpressure, oldest_message_age, processing_rate.");
  export_name(m, "PriorityQueue");
  export_name(m, "PriorityMessageQueue");
  export_alias(m, "RustPriorityQueue", "PriorityQueue");
  export_alias(m, "RustPriorityMessageQueue", "PriorityMessageQueue");
}

}  // namespace wse::py
