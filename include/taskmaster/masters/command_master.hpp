#pragma once
// A master that runs one external program per task.

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/detail/child_streams.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/detail/task_queue.hpp"
#include "taskmaster/detail/worker_capacity.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"
#include "taskmaster/masters/command_template.hpp"
#include "taskmaster/masters/json_lines_wire.hpp"

namespace taskmaster {

/// How CommandMaster runs its programs.
///
/// @code
/// taskmaster::CommandOptions options{.workers = 8, .timeout = 600, .json_stdin = true};
/// options.task_directories = "runs";  // task 7 runs in runs/task-7
/// @endcode
struct CommandOptions {
  /// How many programs run at once (the master's capacity).
  std::size_t workers = 1;
  /// Seconds a program may run; past it its process group is killed and the
  /// task fails. No limit when empty.
  std::optional<double> timeout{};
  /// Join the expanded arguments with spaces and run them with /bin/sh -c
  /// (substituted values are quoted). Off: the program is run directly.
  bool shell = false;
  /// Write `{"id":..,"x":..}` and a newline to the program's stdin, then
  /// close it. Off: stdin is /dev/null.
  bool json_stdin = false;
  /// Set TASKMASTER_ID, TASKMASTER_X and TASKMASTER_X0, TASKMASTER_X1, ...
  /// (as the placeholders would read) in the program's environment.
  bool input_environment = true;
  /// Run each task in a fresh directory `<task_directories>/task-<id>`,
  /// created if needed and left in place for the user.
  std::optional<std::filesystem::path> task_directories{};
  /// Otherwise run every task in this directory (the parent's when empty).
  std::optional<std::filesystem::path> working_directory{};
  /// Extra environment variables.
  std::map<std::string, std::string> environment{};
  /// More stdout than this fails the task (and kills the program).
  std::size_t max_output_bytes = std::size_t{16} << 20;
  /// How much of the end of stderr goes into error messages.
  std::size_t stderr_tail_bytes = 2048;
  /// An input of exactly one component (a one-element array) fills `{x}` and
  /// TASKMASTER_X with that component, as a number would, not as "[16]".
  bool single_component_as_number = false;
};

/// A program's output read as Y, or why it could not be.
///
/// @code
/// auto parsed = taskmaster::parse_command_output<double>("oops");
/// if (!parsed.y) std::puts(parsed.error.c_str());
/// @endcode
template <class Y>
struct ParsedOutput {
  std::optional<Y> y;
  std::string error;
};

/// Reads a program's stdout as an output: a number, a JSON array, a JSON
/// value of Y's history form, or an object with a `y` field (or an `error`
/// field, which fails the task).
///
/// @code
/// auto parsed = taskmaster::parse_command_output<double>("{\"y\": 1.5}\n");  // parsed.y == 1.5
/// @endcode
template <class Y>
ParsedOutput<Y> parse_command_output(std::string_view text) {
  auto failed = [](std::string why) { return ParsedOutput<Y>{std::nullopt, std::move(why)}; };
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return failed("printed nothing on stdout");
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (json_nesting_exceeds(text)) {
    return failed(fmt::format("printed JSON nested deeper than {} levels: '{}'", max_json_depth,
                              detail::excerpt(text)));
  }
  auto j = parse_json(text);
  // Bare nan, inf and -inf are not JSON; Y's codec reads them as strings.
  if (j.is_discarded() && (text == "nan" || text == "inf" || text == "-inf")) {
    j = std::string(text);
  }
  if (j.is_discarded()) {
    return failed(fmt::format(
        "printed output that is not a number, a JSON array or a JSON object with \"y\": '{}'",
        detail::excerpt(text)));
  }
  if (j.is_object()) {
    if (const auto error = j.find("error"); error != j.end()) {
      return failed(fmt::format(
          "reported: {}", error->is_string() ? error->get<std::string>() : json_excerpt(*error)));
    }
    const auto y = j.find("y");
    if (y == j.end()) {
      return failed(
          fmt::format("printed a JSON object without \"y\": '{}'", detail::excerpt(text)));
    }
    j = *y;
  }
  try {
    return ParsedOutput<Y>{taskmaster::decode<Y>(j), {}};
  } catch (const std::exception& e) {
    return failed(fmt::format("printed a value that does not fit the output type: {}", e.what()));
  }
}

/// Evaluates each task by running an external program: the simplest way to
/// put an existing simulation or measurement script in the loop. Arguments
/// come from a template with placeholders `{x}`, `{x0}`, `{x1}`, ...,
/// `{id}` (see CommandTemplate); no shell is involved unless
/// `options.shell` asks for one. The program prints its result on stdout
/// (see parse_command_output). A non-zero exit, a signal, unreadable output
/// or a timeout fails the task with the exit status and the end of stderr;
/// the loop's retry policy decides what follows.
///
/// Capacity is `options.workers` programs at a time; `add_workers` and
/// `release_workers` change it during a run (a released slot finishes its
/// running program). Programs run in process groups of their own; the
/// destructor kills whatever still runs and reaps it.
///
/// @code
/// taskmaster::CommandMaster<std::array<double, 2>, double> master(
///     {"./simulate", "--alpha", "{x0}", "--beta", "{x1}"}, {.workers = 4, .timeout = 60});
/// auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(200));
/// @endcode
template <class X, class Y>
class CommandMaster {
 public:
  using input_type = X;
  using output_type = Y;

  CommandMaster(std::vector<std::string> command, CommandOptions options = {})
      : template_(std::move(command)), options_(std::move(options)), capacity_(options_.workers) {
    if (options_.timeout && !(*options_.timeout > 0)) {
      throw std::invalid_argument(
          fmt::format("CommandMaster: the timeout must be positive, got {}", *options_.timeout));
    }
  }

  CommandMaster(const CommandMaster&) = delete;
  CommandMaster& operator=(const CommandMaster&) = delete;
  ~CommandMaster() { running_.clear(); }  // each Child kills its group and reaps it

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_.value(); }
  /// Lets `n` more programs run at once. Any thread.
  void add_workers(std::size_t n) { capacity_.add(n); }
  /// Lets `n` fewer programs run at once; running ones finish. Any thread.
  void release_workers(std::size_t n) { capacity_.release(n); }

  void submit(Task<X> task) {
    queue_.submit(std::move(task));
    start_queued();
  }

  std::optional<Result<X, Y>> next() {
    return queue_.next([this] { start_queued(); },
                       [this] {
                         if (running_.empty() && capacity() == 0) {
                           return detail::Waited::no_runner_left;
                         }
                         pump();
                         return detail::Waited::progress;
                       });
  }

  /// Drops queued tasks and results not yet taken, and kills the programs
  /// running now.
  void cancel() {
    queue_.clear();
    running_.clear();
    throttled_ = false;
  }

  /// The pids of the programs running now.
  [[nodiscard]] std::vector<pid_t> running_pids() const {
    std::vector<pid_t> pids;
    for (const auto& r : running_) pids.push_back(r.child.pid());
    return pids;
  }

 private:
  using Clock = detail::ChildClock;
  struct Running {
    int slot = 0;
    Task<X> task;
    subprocess::Child child;
    std::string output;
    detail::StderrCapture stderr_capture;
    std::string input;
    std::size_t written = 0;
    Clock::time_point started{};
    Clock::time_point deadline = Clock::time_point::max();
    std::string killed_because;  ///< set when the master killed it
  };

  void start_queued() {
    while (queue_.has_waiting() && running_.size() < capacity() && !throttled_) {
      start(queue_.take_waiting());
    }
  }

  int free_slot() const {
    for (int i = 0;; ++i) {
      if (std::none_of(running_.begin(), running_.end(),
                       [i](const Running& r) { return r.slot == i; })) {
        return i;
      }
    }
  }

  void start(Task<X> task) {
    const int slot = free_slot();
    std::string x_text;
    taskmaster::encode(x_text, task.x);
    std::string why_not;
    subprocess::SpawnOptions spawn;
    try {
      auto values = PlaceholderValues::of(nlohmann::json::parse(x_text), task.id);
      if (options_.single_component_as_number && values.components.size() == 1)
        values.x = values.components.front();
      auto argv = template_.expand(values, options_.shell);
      if (options_.shell) {
        std::string line;
        for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
        argv = {"/bin/sh", "-c", line};
      }
      spawn.argv = std::move(argv);
      spawn.environment = options_.environment;
      if (options_.input_environment) {
        spawn.environment["TASKMASTER_ID"] = values.id;
        spawn.environment["TASKMASTER_X"] = values.x;
        for (std::size_t i = 0; i < values.components.size(); ++i) {
          spawn.environment[fmt::format("TASKMASTER_X{}", i)] = values.components[i];
        }
      }
      spawn.pipe_stdin = options_.json_stdin;
      spawn.working_directory = options_.working_directory;
      if (options_.task_directories) {
        spawn.working_directory = *options_.task_directories / fmt::format("task-{}", task.id);
        std::filesystem::create_directories(*spawn.working_directory);
      }
      // The program's time starts before the spawn: exec and loading are
      // part of running it.
      const auto started = Clock::now();
      subprocess::Child child = subprocess::Child::spawn(spawn);
      child.exit_fd();
      Running run;
      run.slot = slot;
      run.task = std::move(task);
      run.child = std::move(child);
      run.stderr_capture = detail::StderrCapture(options_.stderr_tail_bytes);
      run.started = started;
      run.deadline = detail::deadline_after(run.started, options_.timeout);
      if (options_.json_stdin) {
        run.input = fmt::format("{{\"id\":{},\"x\":{}}}\n", run.task.id, x_text);
        write_input(run);
      }
      running_.push_back(std::move(run));
    } catch (const subprocess::SpawnError& e) {
      if (e.out_of_resources() && !running_.empty()) {
        // Out of file descriptors (or processes) while programs run: those
        // give theirs back when they end, so the task waits for that rather
        // than failing, and no more start until then.
        throttled_ = true;
        queue_.put_back(std::move(task));
        return;
      }
      queue_.deliver(Result<X, Y>::failure(task.id, std::move(task.x),
                                           fmt::format("command not started: {}", e.what()), slot));
    } catch (const std::exception& e) {
      // A task that cannot start fails on its own; the run goes on.
      queue_.deliver(Result<X, Y>::failure(task.id, std::move(task.x),
                                           fmt::format("command not started: {}", e.what()), slot));
    }
  }

  static void write_input(Running& run) {
    while (run.written < run.input.size()) {
      const long n = run.child.write_some(std::string_view(run.input).substr(run.written));
      if (n <= 0) {
        if (n < 0) run.child.close_stdin();  // it does not read its input: its exit tells
        return;
      }
      run.written += static_cast<std::size_t>(n);
    }
    run.child.close_stdin();
  }

  void pump() {
    enum class Stream { out, err, in, exit };
    struct Owner {
      typename std::list<Running>::iterator run;
      Stream stream;
    };
    detail::PollSet<Owner> watched;
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      watched.watch(it->child.stdout_fd(), POLLIN, {it, Stream::out});
      watched.watch(it->child.stderr_fd(), POLLIN, {it, Stream::err});
      if (it->written < it->input.size()) {
        watched.watch(it->child.stdin_fd(), POLLOUT, {it, Stream::in});
      }
      watched.watch(it->child.exit_fd(), POLLIN, {it, Stream::exit});
      watched.wake_by(it->deadline);
    }
    std::vector<typename std::list<Running>::iterator> ended;
    watched.wait([&](const Owner& owner) {
      Running& run = *owner.run;
      switch (owner.stream) {
        case Stream::out: read_output(run); break;
        case Stream::err: run.stderr_capture.read(run.child); break;
        case Stream::in: write_input(run); break;
        case Stream::exit: ended.push_back(owner.run); break;
      }
    });
    const auto now = Clock::now();
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      if (it->deadline <= now && it->killed_because.empty()) {
        it->killed_because = fmt::format("timed out after {} s and was killed", *options_.timeout);
        it->child.kill_group();
      }
    }
    for (auto it : ended) finish(it);
  }

  void read_output(Running& run) {
    const long n = subprocess::Child::read_available(run.child.stdout_fd(), run.output,
                                                     options_.max_output_bytes + 1);
    if (n == 0) run.child.close_stdout();
    if (run.output.size() > options_.max_output_bytes && run.killed_because.empty()) {
      run.killed_because = fmt::format(
          "printed more than the limit of {} bytes on stdout and "
          "was killed",
          options_.max_output_bytes);
      run.child.kill_group();
      run.child.close_stdout();
    }
  }

  void finish(typename std::list<Running>::iterator it) {
    Running& run = *it;
    const int status = run.child.wait();  // also kills whatever it left running
    // The group is dead: what is left in the pipes is all there will be.
    for (int i = 0; i < 1024 && run.child.stdout_fd() >= 0; ++i) {
      const long n = subprocess::Child::read_available(run.child.stdout_fd(), run.output,
                                                       options_.max_output_bytes + 1);
      if (n <= 0) break;
      if (run.output.size() > options_.max_output_bytes) {
        if (run.killed_because.empty()) {
          run.killed_because = fmt::format("printed more than the limit of {} bytes on stdout",
                                           options_.max_output_bytes);
        }
        break;
      }
    }
    run.stderr_capture.drain(run.child);
    const double duration = std::chrono::duration<double>(Clock::now() - run.started).count();
    auto fail = [&](const std::string& what) {
      std::string reason = run.stderr_capture.annotate(
          fmt::format("command '{}' (task {}, pid {}) {}", template_.arguments().front(),
                      run.task.id, run.child.pid(), what));
      queue_.deliver(Result<X, Y>::failure(run.task.id, std::move(run.task.x), std::move(reason),
                                           run.slot, duration));
    };
    if (!run.killed_because.empty()) {
      fail(run.killed_because);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fail(subprocess::describe_wait_status(status));
    } else {
      auto parsed = parse_command_output<Y>(run.output);
      if (parsed.y) {
        queue_.deliver(Result<X, Y>::success(run.task.id, std::move(run.task.x),
                                             std::move(*parsed.y), run.slot, duration));
      } else {
        fail(parsed.error);
      }
    }
    running_.erase(it);
    throttled_ = false;
  }

  CommandTemplate template_;
  CommandOptions options_;
  detail::WorkerCapacity capacity_;
  detail::TaskQueue<X, Y> queue_;
  std::list<Running> running_;
  bool throttled_ = false;  ///< out of descriptors: start nothing until a program ends
};

}  // namespace taskmaster
