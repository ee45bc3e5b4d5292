// Runs from Python on the C++ loop: taskmaster.run, Runner, resume, replay.
//
// The loop runs on a thread of its own with the GIL released; every call
// into Python (the learner, a goal, an executor, a vectorised function)
// takes the GIL for its duration. The Python thread that started the run
// waits in short slices, so Ctrl-C reaches it and turns into a request to
// stop (then to abandon the points in flight). Since the learner is only
// touched under the GIL, Python code may read it while the run goes on.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "python_values.hpp"

#include <taskmaster/detail/subprocess.hpp>
#include <taskmaster/evaluate.hpp>
#include <taskmaster/history/history_file.hpp>
#include <taskmaster/history/replay.hpp>
#include <taskmaster/history/replay_divergence.hpp>
#include <taskmaster/masters/batch_master.hpp>
#include <taskmaster/masters/command_master.hpp>
#include <taskmaster/masters/serial_master.hpp>
#include <taskmaster/masters/simulated_master.hpp>
#include <taskmaster/masters/slurm_master.hpp>
#include <taskmaster/masters/stdio_master.hpp>
#if TASKMASTER_PYTHON_MPI
#include <taskmaster/masters/mpi_master.hpp>
#endif

namespace taskmaster::python {
namespace {

/// The exception text of the Python error being handled, as "Type: message".
std::string describe_python_error(py::error_already_set& e) {
  py::gil_scoped_acquire gil;
  const std::string type = py::str(e.type().attr("__name__"));
  return type + ": " + std::string(py::str(e.value()));
}

/// `function` as a C++ callable of one point, taking the GIL for each call;
/// its exception becomes the point's failure, with the type and message.
/// A handle, not an object: the callable is copied and destroyed without
/// the GIL, so it must not count references; the caller keeps `function`
/// alive for as long as the callable is used.
std::function<Value(const Value&)> calling(py::handle function) {
  return [function](const Value& x) {
    py::gil_scoped_acquire gil;
    try {
      return to_value(function(from_value(x)));
    } catch (py::error_already_set& e) {
      throw std::runtime_error(describe_python_error(e));
    }
  };
}

/// Any learner with python-adaptive's interface, as the loop sees a learner.
class PythonLearner {
 public:
  using input_type = Value;
  using output_type = Value;

  /// `numbers_as_arrays`: outputs travel and are recorded as the
  /// command-line tool writes them, a number as a one-element array; the
  /// learner is told the number (see `ArraysForNumbers`).
  explicit PythonLearner(py::object learner, bool numbers_as_arrays = false)
      : learner_(std::move(learner)), numbers_as_arrays_(numbers_as_arrays) {
    py::gil_scoped_acquire gil;
    has_fail_ = py::hasattr(learner_, "_fail");
    has_done_ = py::hasattr(learner_, "done");
  }
  PythonLearner(const PythonLearner&) = delete;
  PythonLearner& operator=(const PythonLearner&) = delete;
  ~PythonLearner() {
    py::gil_scoped_acquire gil;
    learner_ = py::object();
  }

  std::optional<Value> ask(Entropy) {
    py::gil_scoped_acquire gil;
    py::tuple asked = learner_.attr("ask")(1);
    py::sequence points = asked[0];
    if (py::len(points) == 0) return std::nullopt;
    return to_value(points[0]);
  }
  std::vector<Value> ask(std::size_t n, Entropy) {
    py::gil_scoped_acquire gil;
    py::tuple asked = learner_.attr("ask")(n);
    std::vector<Value> out;
    for (py::handle p : py::sequence(asked[0])) out.push_back(to_value(p));
    return out;
  }
  void tell(const Value& x, const Value& y) {
    const bool one_number =
        numbers_as_arrays_ && y.is_array() && y.size() == 1 && y.front().is_number();
    py::gil_scoped_acquire gil;
    learner_.attr("tell")(from_value(x), from_value(one_number ? y.front() : y));
  }
  void fail(const Value& x) {
    // python-adaptive's learners have no notion of a failed point: it stays
    // pending, so it is not asked again. Ours are told.
    if (!has_fail_) return;
    py::gil_scoped_acquire gil;
    learner_.attr("_fail")(from_value(x));
  }
  [[nodiscard]] double loss() const {
    py::gil_scoped_acquire gil;
    return learner_.attr("loss")().cast<double>();
  }
  [[nodiscard]] bool done() const {
    if (!has_done_) return false;
    py::gil_scoped_acquire gil;
    return learner_.attr("done")().cast<bool>();
  }

 private:
  py::object learner_;
  bool numbers_as_arrays_ = false;
  bool has_fail_ = false;
  bool has_done_ = false;
};

/// Evaluates through a concurrent.futures.Executor: each task is one
/// `executor.submit(function, x)`; a done-callback hands its result over.
class ExecutorMaster {
 public:
  using input_type = Value;
  using output_type = Value;

  ExecutorMaster(py::object executor, py::object function, std::size_t capacity)
      : state_(std::make_shared<State>()),
        executor_(std::move(executor)),
        function_(std::move(function)),
        capacity_(capacity) {}
  ExecutorMaster(const ExecutorMaster&) = delete;
  ExecutorMaster& operator=(const ExecutorMaster&) = delete;
  ~ExecutorMaster() {
    py::gil_scoped_acquire gil;
    for (auto& f : futures_) f.attr("cancel")();
    futures_.clear();
    executor_ = py::object();
    function_ = py::object();
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  void submit(Task<Value> task) {
    py::gil_scoped_acquire gil;
    {
      std::lock_guard lock(state_->mutex);
      ++state_->outstanding;
    }
    const auto start = std::chrono::steady_clock::now();
    std::shared_ptr<State> state = state_;
    const TaskId id = task.id;
    Value x = task.x;
    py::cpp_function on_done([state, id, x, start](py::object future) {
      Result<Value, Value> r;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      try {
        if (future.attr("cancelled")().cast<bool>()) {
          r = Result<Value, Value>::failure(id, x, "cancelled", -1, seconds);
        } else {
          py::object error = future.attr("exception")();
          if (!error.is_none()) {
            const std::string type = py::str(py::type::of(error).attr("__name__"));
            r = Result<Value, Value>::failure(id, x, type + ": " + std::string(py::str(error)), -1,
                                              seconds);
          } else {
            r = Result<Value, Value>::success(id, x, to_value(future.attr("result")()), -1,
                                              seconds);
          }
        }
      } catch (py::error_already_set& e) {
        r = Result<Value, Value>::failure(id, x, describe_python_error(e), -1, seconds);
      }
      std::lock_guard lock(state->mutex);
      state->results.push_back(std::move(r));
      state->ready.notify_all();
    });
    try {
      py::object future = executor_.attr("submit")(function_, from_value(task.x));
      futures_.push_back(future);
      if (futures_.size() > 4 * capacity_ + 64) prune_futures();
      future.attr("add_done_callback")(on_done);
    } catch (py::error_already_set& e) {
      std::lock_guard lock(state_->mutex);
      state_->results.push_back(Result<Value, Value>::failure(
          id, task.x, "the executor refused the task: " + describe_python_error(e)));
      state_->ready.notify_all();
    }
  }

  std::optional<Result<Value, Value>> next() {
    std::unique_lock lock(state_->mutex);
    state_->ready.wait(lock, [&] {
      return !state_->results.empty() || state_->outstanding == 0 || state_->cancelled;
    });
    if (state_->cancelled || state_->results.empty()) return std::nullopt;
    Result<Value, Value> r = std::move(state_->results.front());
    state_->results.pop_front();
    --state_->outstanding;
    return r;
  }

  void cancel() {
    {
      std::lock_guard lock(state_->mutex);
      state_->cancelled = true;
      state_->results.clear();
      state_->outstanding = 0;
      state_->ready.notify_all();
    }
    py::gil_scoped_acquire gil;
    for (auto& f : futures_) f.attr("cancel")();
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Result<Value, Value>> results;
    std::size_t outstanding = 0;
    bool cancelled = false;
  };

  void prune_futures() {
    std::vector<py::object> live;
    for (auto& f : futures_) {
      if (!f.attr("done")().cast<bool>()) live.push_back(f);
    }
    futures_ = std::move(live);
  }

  std::shared_ptr<State> state_;
  py::object executor_;
  py::object function_;
  std::size_t capacity_;
  std::vector<py::object> futures_;
};

/// Lets a run give up its points in flight: once abandoned, results still
/// arriving intact are handed on, failures are not, and the master is
/// cancelled, so the loop ends with those points unresolved in the history
/// (where resume asks them again).
template <class M>
class Abandonable {
 public:
  using input_type = typename M::input_type;
  using output_type = typename M::output_type;

  /// `numbers_as_arrays`: a number the function gave is handed on (and so
  /// recorded) as a one-element array, as the command-line tool records
  /// outputs, so that the tool can carry the run on.
  Abandonable(M& inner, const std::atomic<bool>& abandoned, bool numbers_as_arrays)
      : inner_(inner), abandoned_(abandoned), numbers_as_arrays_(numbers_as_arrays) {}
  [[nodiscard]] std::size_t capacity() const { return inner_.capacity(); }
  void submit(Task<input_type> task) { inner_.submit(std::move(task)); }
  void cancel() { inner_.cancel(); }
  std::optional<Result<input_type, output_type>> next() {
    if (!abandoned_) {
      auto r = inner_.next();
      if (r && r->ok() && r->y->is_null()) {
        // No learner takes None for a value (python-adaptive's tell reads it
        // as "still being computed"): the point fails, the run goes on.
        r = Result<input_type, output_type>::failure(
            r->id, std::move(r->x), "the function returned None", r->worker, r->duration);
      }
      if (r && r->ok() && numbers_as_arrays_ && r->y->is_number()) {
        *r->y = Value::array({std::move(*r->y)});
      }
      if (!abandoned_ || (r && r->ok())) return r;
    }
    inner_.cancel();
    return std::nullopt;
  }

 private:
  M& inner_;
  const std::atomic<bool>& abandoned_;
  bool numbers_as_arrays_;
};

/// What to run: filled in by taskmaster/runner.py.
struct RunSpec {
  py::object learner;
  std::string master;  // "workers", "stdio", "command", "executor", "batch"
  std::vector<std::string> command;
  py::object executor;
  py::object function;
  std::size_t workers = 1;
  std::size_t prefetch = 0;  // for masters "workers" and "stdio": WorkerOptions::prefetch
  std::size_t max_batch = 64;
  std::optional<double> timeout;
  py::object goal;  // callable(learner) -> bool, or None
  std::optional<double> duration;
  std::optional<std::uint64_t> npoints_goal;
  std::uint64_t npoints_at_start = 0;
  std::optional<std::string> history;
  bool resume = false;
  std::uint64_t seed = 0;
  unsigned retries = 0;
  std::size_t ask_batch = 1;
  py::object metadata;                // JSON-able, or None
  SlurmOptions slurm;                 // for master "slurm"; max_jobs is `workers`
  std::string durations = "fixed:1";  // for master "simulated": TaskDurations::parse's text
  std::uint64_t durations_seed = 0;   // for master "simulated"
  bool numbers_as_arrays = false;     // outputs as the command-line tool records them
  // For master "workers": workers forked by runner.py, used before any is
  // spawned. Shared, because pybind11 hands RunHandle a copy of the spec.
  std::shared_ptr<std::vector<subprocess::Child>> started_workers =
      std::make_shared<std::vector<subprocess::Child>>();

  /// Takes charge of a forked worker (its pid and this process's ends of
  /// its pipes): from here on it is killed and reaped with the run.
  void adopt_worker(pid_t pid, int stdin_fd, int stdout_fd, int stderr_fd) {
    started_workers->push_back(subprocess::Child::adopt(pid, stdin_fd, stdout_fd, stderr_fd));
  }
};

/// One run on its own thread, and what the Python side can ask of it.
class RunHandle {
 public:
  explicit RunHandle(RunSpec spec) : spec_(std::move(spec)) {
    metadata_ = spec_.metadata.is_none() ? Value::object() : to_value(spec_.metadata);
    goal_ = spec_.goal;
    learner_ = std::make_unique<PythonLearner>(spec_.learner, spec_.numbers_as_arrays);
    python_function_ = spec_.function;
    executor_ = spec_.executor;
    thread_ = std::thread([this] { body(); });
  }
  RunHandle(const RunHandle&) = delete;
  RunHandle& operator=(const RunHandle&) = delete;
  ~RunHandle() {
    abandoned_ = true;
    stop_ = true;
    if (thread_.joinable()) {
      py::gil_scoped_release release;
      if (!finished()) subprocess::kill_every_child_group();
      thread_.join();
    }
    goal_ = py::object();
    python_function_ = py::object();
    executor_ = py::object();
  }

  /// Waits up to `seconds` (forever when None) for the end; true once ended.
  bool wait(std::optional<double> seconds) {
    py::gil_scoped_release release;
    std::unique_lock lock(mutex_);
    if (!seconds) {
      ended_.wait(lock, [&] { return done_; });
    } else {
      ended_.wait_for(lock, std::chrono::duration<double>(*seconds), [&] { return done_; });
    }
    return done_;
  }
  bool finished() {
    std::lock_guard lock(mutex_);
    return done_;
  }
  /// Stop asking; the points in flight are waited for.
  void request_stop() { stop_ = true; }
  /// Stop now: the points in flight are given up (unresolved in the history).
  void abandon() {
    stop_ = true;
    abandoned_ = true;
    if (spec_.master == "workers" || spec_.master == "stdio" || spec_.master == "command") {
      subprocess::kill_every_child_group();
    }
  }

  py::dict progress() {
    std::lock_guard lock(mutex_);
    py::dict out;
    out["asked"] = progress_.asked;
    out["told"] = progress_.told;
    out["failed"] = progress_.failed;
    out["retried"] = progress_.retried;
    out["in_flight"] = progress_.in_flight;
    out["capacity"] = progress_.capacity;
    out["elapsed"] = progress_.seconds();
    return out;
  }

  /// The summary once ended; the run's exception if it ended with one.
  py::dict result() {
    wait(std::nullopt);
    if (error_) std::rethrow_exception(error_);
    if (!all_failed_.empty()) throw std::runtime_error(all_failed_);
    py::dict out = progress();
    out["reason"] = reason_;
    py::list unresolved;
    for (const auto& u : unresolved_) unresolved.append(from_value(u));
    out["unresolved"] = unresolved;
    py::list failures;
    for (const auto& [x, why] : failures_) failures.append(py::make_tuple(from_value(x), why));
    out["failures"] = failures;
    if (virtual_seconds_) {
      out["virtual_time"] = *virtual_seconds_;
      out["utilization"] = utilization_;
    }
    return out;
  }

 private:
  template <class M>
  void run_on(M& inner) {
    Abandonable<M> master(inner, abandoned_, spec_.numbers_as_arrays);
    // Each part notes that it held, so the summary can say which one ended the run.
    StopCondition stop =
        stop::when("stopped", [this](const Progress&) { return stop_.load() && held("stopped"); });
    if (spec_.npoints_goal) {
      // learner.npoints grows by one per result told (python-adaptive's
      // npoints), so the loop's own count answers without calling Python.
      const std::uint64_t goal = *spec_.npoints_goal;
      const std::uint64_t start = spec_.npoints_at_start;
      stop = std::move(stop) || stop::when("npoints", [this, goal, start](const Progress& p) {
               return start + p.told >= goal && held("goal reached");
             });
    }
    if (spec_.duration) {
      const double seconds = *spec_.duration;
      stop = std::move(stop) || stop::when("duration", [this, seconds](const Progress& p) {
               return p.seconds() >= seconds && held("duration goal reached");
             });
    }
    if (goal_ && !goal_.is_none()) {
      stop = std::move(stop) || stop::when("goal", [this](const Progress&) {
               py::gil_scoped_acquire gil;
               return goal_(spec_.learner).template cast<bool>() && held("goal reached");
             });
    }
    RunOptions<Value, Value> options;
    options.seed = spec_.seed;
    options.retry.retries = spec_.retries;
    options.ask_batch = spec_.ask_batch;
    options.keep_history = false;
    options.metadata = metadata_;
    if (spec_.history && !spec_.resume) options.history_file = *spec_.history;
    options.hook = [this](const HistoryEvent<Value, Value>& event, const Progress& p) {
      std::lock_guard lock(mutex_);
      progress_ = p;
      progress_.learner = nullptr;
      if (event.kind == EventKind::fail && !event.retry && event.x) {
        failures_.emplace_back(*event.x, event.text);
        // A function that fails on every point would otherwise fail points
        // for ever (a goal on npoints is never reached): end the run.
        if (!any_success_ && ++consecutive_failures_ >= std::max<std::size_t>(8, 2 * p.capacity)) {
          if (all_failed_.empty()) {
            all_failed_ = "every one of the first " + std::to_string(consecutive_failures_) +
                          " points failed; the last: " + event.text;
          }
          stop_ = true;
        }
      } else if (event.kind == EventKind::tell) {
        any_success_ = true;
      }
    };
    RunSummary<Value, Value> summary =
        spec_.resume ? taskmaster::resume(*spec_.history, master, *learner_, stop, options)
                     : taskmaster::evaluate(master, *learner_, stop, options);
    std::lock_guard lock(mutex_);
    reason_ = stopped_by_.empty() ? summary.reason : stopped_by_;
    progress_ = summary.progress;
    progress_.learner = nullptr;
    for (const auto& u : summary.unresolved) unresolved_.push_back(u.x);
  }

  bool held(const char* why) {
    std::lock_guard lock(mutex_);
    if (stopped_by_.empty()) stopped_by_ = why;
    return true;
  }

  void body() {
    // One Python thread state for the whole run: each call into Python then
    // only takes the GIL instead of creating and destroying a thread state.
    std::optional<py::gil_scoped_acquire> thread_state(std::in_place);
    std::optional<py::gil_scoped_release> without_gil(std::in_place);
    try {
      if (spec_.master == "workers" || spec_.master == "stdio") {
        WorkerOptions options;
        options.workers = spec_.workers;
        options.timeout = spec_.timeout;
        options.prefetch = spec_.prefetch;
        StdioMaster<Value, Value> master(spec_.command, options, std::move(*spec_.started_workers));
        spec_.started_workers->clear();
        run_on(master);
      } else if (spec_.master == "command") {
        CommandOptions options;
        options.workers = spec_.workers;
        options.timeout = spec_.timeout;
        CommandMaster<Value, Value> master(spec_.command, options);
        run_on(master);
      } else if (spec_.master == "executor") {
        std::unique_ptr<ExecutorMaster> master;
        {
          py::gil_scoped_acquire gil;
          master = std::make_unique<ExecutorMaster>(executor_, python_function_, spec_.workers);
        }
        run_on(*master);
        py::gil_scoped_acquire gil;
        master.reset();
      } else if (spec_.master == "simulated") {
        SimulatedMaster<Value, Value> master(calling(python_function_), spec_.workers,
                                             TaskDurations::parse(spec_.durations),
                                             {.seed = spec_.durations_seed});
        run_on(master);
        std::lock_guard lock(mutex_);
        virtual_seconds_ = master.now();
        utilization_ = master.utilization();
      } else if (spec_.master == "serial") {
        SerialMaster<Value, Value> master(calling(python_function_));
        run_on(master);
      } else if (spec_.master == "batch") {
        const py::handle function = python_function_;  // kept alive by this handle
        BatchMaster<Value, Value> master(
            [function](std::span<const Value> xs) {
              py::gil_scoped_acquire gil;
              py::list inputs;
              for (const auto& x : xs) inputs.append(from_value(x));
              py::object ys =
                  py::module_::import("taskmaster.runner").attr("_call_batch")(function, inputs);
              std::vector<Value> out;
              for (py::handle y : ys) out.push_back(to_value(y));
              return out;
            },
            {.max_batch = spec_.max_batch, .evaluators = spec_.workers});
        run_on(master);
      } else if (spec_.master == "slurm") {
        SlurmOptions options = spec_.slurm;
        options.max_jobs = spec_.workers;
        // Cancelling the run cancels its jobs; a resumed run takes over the
        // jobs the interrupted one left in the queue instead of submitting
        // them again.
        options.give_up = [this] { return abandoned_.load(); };
        options.adopt_jobs = spec_.resume;
        SlurmMaster<Value, Value> master(spec_.command, std::move(options));
        run_on(master);
#if TASKMASTER_PYTHON_MPI
      } else if (spec_.master == "mpi") {
        MPIMaster<Value, Value> master;
        if (master.capacity() == 0) {
          throw std::invalid_argument(
              "executor=MPI(): this is the only MPI rank; start Python under mpirun with one rank "
              "more than the workers, e.g. 'mpirun -n 5 python script.py'");
        }
        run_on(master);
#endif
      } else {
        throw std::invalid_argument("unknown master " + spec_.master);
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    without_gil.reset();
    thread_state.reset();
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ended_.notify_all();
  }

  RunSpec spec_;
  Value metadata_;
  py::object goal_;
  py::object python_function_;
  py::object executor_;
  std::unique_ptr<PythonLearner> learner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> abandoned_{false};
  std::mutex mutex_;
  std::condition_variable ended_;
  bool done_ = false;
  Progress progress_;
  std::string reason_;
  std::string stopped_by_;
  std::string all_failed_;
  bool any_success_ = false;
  std::size_t consecutive_failures_ = 0;
  std::vector<Value> unresolved_;
  std::vector<std::pair<Value, std::string>> failures_;
  std::exception_ptr error_;
  std::optional<double> virtual_seconds_;  ///< a simulation's virtual time at its end
  double utilization_ = 0;                 ///< a simulation's busy share of its workers
  std::thread thread_;
};

/// Replays a history into `learner` (checking every ask); the counters at the end.
py::dict replay_file(const std::string& path, py::object learner, bool numbers_as_arrays) {
  auto history = read_history<Value, Value>(path);
  PythonLearner adapter(std::move(learner), numbers_as_arrays);
  Progress p;
  try {
    py::gil_scoped_release release;
    p = replay(history, adapter);
  } catch (const ReplayDivergence& e) {
    // Raised as taskmaster.ReplayDivergence, with the step, both points and the line.
    py::object type = py::module_::import("taskmaster.runner").attr("ReplayDivergence");
    py::object error = type(e.what(), e.step(), e.recorded(), e.asked(), e.line());
    PyErr_SetObject(type.ptr(), error.ptr());
    throw py::error_already_set();
  }
  py::dict out;
  out["asked"] = p.asked;
  out["told"] = p.told;
  out["failed"] = p.failed;
  return out;
}

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::capacity: return "capacity";
    case EventKind::ask: return "ask";
    case EventKind::tell: return "tell";
    case EventKind::fail: return "fail";
    case EventKind::stop: return "stop";
    case EventKind::cancel: return "cancel";
    case EventKind::end: return "end";
    case EventKind::resume: return "resume";
  }
  return "unknown";
}

/// The header and events of a history file, as Python dicts.
py::tuple read_history_file(const std::string& path) {
  auto history = read_history<Value, Value>(path);
  py::list segments;
  for (const auto& s : history.segments) {
    py::dict d;
    d["seed"] = s.seed;
    d["retries"] = s.retry.retries;
    d["ask_batch"] = s.ask_batch;
    d["started"] = s.started;
    d["meta"] = from_value(s.metadata);
    segments.append(d);
  }
  py::list events;
  for (const auto& e : history.events) {
    py::dict d;
    d["e"] = kind_name(e.kind);
    d["t"] = e.time;
    switch (e.kind) {
      case EventKind::ask:
        d["step"] = e.step;
        d["id"] = e.id;
        d["entropy"] = e.entropy;
        d["x"] = e.x ? from_value(*e.x) : py::none();
        break;
      case EventKind::tell:
        d["id"] = e.id;
        d["y"] = e.y ? from_value(*e.y) : py::none();
        d["worker"] = e.worker;
        d["dt"] = e.duration;
        break;
      case EventKind::fail:
        d["id"] = e.id;
        d["error"] = e.text;
        d["retry"] = e.retry;
        d["worker"] = e.worker;
        d["dt"] = e.duration;
        break;
      case EventKind::cancel: d["id"] = e.id; break;
      case EventKind::capacity: d["n"] = e.capacity; break;
      case EventKind::stop:
      case EventKind::end: d["reason"] = e.text; break;
      case EventKind::resume: d["segment"] = e.step; break;
    }
    d["line"] = e.line;
    events.append(d);
  }
  return py::make_tuple(segments, events);
}

#if TASKMASTER_PYTHON_MPI
/// Starts MPI once per process. Serialized: the run's own thread (not the
/// one that started MPI) sends and receives on rank 0.
void mpi_start() {
  int started = 0;
  MPI_Initialized(&started);
  if (started) return;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (provided < MPI_THREAD_SERIALIZED) {
    throw std::runtime_error("MPI gives no thread support (MPI_THREAD_SERIALIZED is needed)");
  }
}

/// Ends MPI if it was started and is not ended yet (at the interpreter's exit).
void mpi_end() {
  int started = 0;
  int ended = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&ended);
  if (started && !ended) MPI_Finalize();
}

py::tuple mpi_rank_and_size() {
  mpi_start();
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return py::make_tuple(rank, size);
}

/// A worker rank's side of executor=MPI(): evaluates the points rank 0
/// sends, with `function` or with `command` run once per point, until
/// rank 0's run ends.
void mpi_serve(py::object function, const std::vector<std::string>& command,
               std::optional<double> timeout) {
  mpi_start();
  if (!command.empty()) {
    MPIMaster<Value, Value> master;
    py::gil_scoped_release release;
    CommandMaster<Value, Value> programs(command, {.workers = 1, .timeout = timeout});
    master.serve(programs);
    return;
  }
  MPIMaster<Value, Value> master(calling(function));
  py::gil_scoped_release release;
  master.serve();
}
#endif

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_run, m) {
  using namespace taskmaster::python;
  m.doc() = "The C++ loop for taskmaster.run and friends (use taskmaster.run instead).";
  m.def("child_guard_descriptor", &taskmaster::subprocess::child_guard_descriptor,
        "The descriptor a forked worker must close (-1 when there is none yet).");
  py::class_<RunSpec>(m, "RunSpec")
      .def(py::init<>())
      .def_readwrite("learner", &RunSpec::learner)
      .def_readwrite("master", &RunSpec::master)
      .def_readwrite("command", &RunSpec::command)
      .def_readwrite("executor", &RunSpec::executor)
      .def_readwrite("function", &RunSpec::function)
      .def_readwrite("workers", &RunSpec::workers)
      .def_readwrite("prefetch", &RunSpec::prefetch)
      .def_readwrite("max_batch", &RunSpec::max_batch)
      .def_readwrite("timeout", &RunSpec::timeout)
      .def_readwrite("goal", &RunSpec::goal)
      .def_readwrite("duration", &RunSpec::duration)
      .def_readwrite("npoints_goal", &RunSpec::npoints_goal)
      .def_readwrite("npoints_at_start", &RunSpec::npoints_at_start)
      .def_readwrite("history", &RunSpec::history)
      .def_readwrite("resume", &RunSpec::resume)
      .def_readwrite("seed", &RunSpec::seed)
      .def_readwrite("retries", &RunSpec::retries)
      .def_readwrite("ask_batch", &RunSpec::ask_batch)
      .def_readwrite("metadata", &RunSpec::metadata)
      .def_readwrite("numbers_as_arrays", &RunSpec::numbers_as_arrays)
      .def_readwrite("durations", &RunSpec::durations)
      .def_readwrite("durations_seed", &RunSpec::durations_seed)
      .def("adopt_worker", &RunSpec::adopt_worker, py::arg("pid"), py::arg("stdin_fd"),
           py::arg("stdout_fd"), py::arg("stderr_fd"))
      .def("set_slurm", [](RunSpec& spec, std::string partition, std::string time_limit,
                           unsigned cpus, std::string memory, std::vector<std::string> sbatch_lines,
                           std::string directory, std::string job_name, bool arrays) {
        spec.slurm.partition = std::move(partition);
        spec.slurm.time_limit = std::move(time_limit);
        spec.slurm.cpus_per_task = cpus;
        spec.slurm.memory = std::move(memory);
        spec.slurm.sbatch_lines = std::move(sbatch_lines);
        spec.slurm.work_directory = std::move(directory);
        spec.slurm.job_name = std::move(job_name);
        spec.slurm.arrays = arrays;
      });
  py::class_<RunHandle>(m, "RunHandle")
      .def(py::init<RunSpec>())
      .def("wait", &RunHandle::wait, py::arg("seconds") = py::none())
      .def("finished", &RunHandle::finished)
      .def("request_stop", &RunHandle::request_stop)
      .def("abandon", &RunHandle::abandon)
      .def("progress", &RunHandle::progress)
      .def("result", &RunHandle::result);
  m.def("replay", &replay_file, py::arg("path"), py::arg("learner"),
        py::arg("numbers_as_arrays") = false);
  m.def("read_history", &read_history_file, py::arg("path"));
  // Checked when the run is configured, so that a bad text is a ValueError
  // of the call that gave it rather than of the run's end.
  m.def(
      "check_durations",
      [](const std::string& text) { static_cast<void>(taskmaster::TaskDurations::parse(text)); },
      py::arg("text"));
#if TASKMASTER_PYTHON_MPI
  m.attr("with_mpi") = true;
  m.def("mpi_rank_and_size", &mpi_rank_and_size);
  m.def("mpi_serve", &mpi_serve, py::arg("function"), py::arg("command"), py::arg("timeout"));
  m.def("mpi_end", &mpi_end);
#else
  m.attr("with_mpi") = false;
#endif
}
