#pragma once
// A master that runs each task as a SLURM batch job.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/master.hpp"
#include "taskmaster/detail/task_queue.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/command_template.hpp"

namespace taskmaster {

/// How SlurmMaster writes and submits its jobs.
///
/// @code
/// taskmaster::SlurmOptions options{.max_jobs = 50, .partition = "short", .time_limit = "00:30:00",
///                                  .cpus_per_task = 4, .memory = "8G"};
/// options.sbatch_lines.push_back("--account=myproject");
/// @endcode
struct SlurmOptions {
  /// How many jobs may be queued or running at once (the master's capacity).
  std::size_t max_jobs = 4;
  std::string partition{};
  /// sbatch --time, e.g. "00:10:00"; the partition's default when empty.
  std::string time_limit{};
  unsigned cpus_per_task = 1;
  /// sbatch --mem, e.g. "2G"; the partition's default when empty.
  std::string memory{};
  /// More sbatch options, one per line, e.g. "--account=abc" ("#SBATCH " is added).
  std::vector<std::string> sbatch_lines{};
  std::string job_name = "taskmaster";
  /// Job scripts, outputs and logs go here (created if needed).
  std::filesystem::path work_directory = "taskmaster-slurm";
  /// Submit the tasks handed over together as one job array.
  bool arrays = true;
  /// Seconds between two looks at the queue.
  double poll_interval = 0.2;
  /// Take over the jobs that an earlier master with this work_directory left
  /// behind (its run was killed, and is now resumed): a task submitted with
  /// the id and input of such a job follows that job, or takes its output if
  /// it has finished, instead of going out again. Off: the record of jobs in
  /// work_directory starts afresh.
  bool adopt_jobs = false;
  /// Asked between two looks at the queue while `next()` waits; when it
  /// says true, every outstanding job is cancelled and `next()` returns
  /// nothing more (a user who gives up waiting, e.g. a second Ctrl-C).
  std::function<bool()> give_up{};
  /// An input of exactly one component (a one-element array) fills `{x}`
  /// with that component, as a number would, not as "[16]".
  bool single_component_as_number = false;
};

namespace detail {

/// Runs a short command (sbatch, squeue, scontrol, scancel) to its end.
struct CommandOutcome {
  int status = -1;  // the exit status, or -1 when it could not be run or was killed
  std::string out;
  std::string err;
};
CommandOutcome run_to_end(const std::vector<std::string>& argv);

}  // namespace detail

/// Evaluates each task as a SLURM batch job built from a command template
/// (placeholders as CommandMaster's: `{x}`, `{x0}`, `{x1}`, ..., `{id}`). The
/// command's stdout, written to a file in `work_directory`, is the result,
/// read as CommandMaster reads it. Job states are followed with `squeue`
/// (`scontrol` for the exit code), so no accounting database is needed.
/// FAILED, CANCELLED, TIMEOUT, NODE_FAIL and OUT_OF_MEMORY jobs become
/// failures with their reason, and the loop's retry policy decides what
/// follows. Tasks handed over together go out as one job array. `cancel()`,
/// and destroying the master, `scancel` every outstanding job. Every job is
/// recorded in `work_directory/jobs.jsonl` (task id, input, job id), so that
/// a master resuming a killed run can adopt the jobs still queued or done
/// (`SlurmOptions::adopt_jobs`).
///
/// @code
/// taskmaster::SlurmMaster<double, double> master(
///     {"./simulate", "--x", "{x}"}, {.max_jobs = 100, .partition = "batch", .time_limit =
///     "01:00:00"});
/// taskmaster::evaluate(master, learner, taskmaster::stop::points(500), {.retry = {.retries = 2}});
/// @endcode
template <class X, class Y>
class SlurmMaster {
 public:
  using input_type = X;
  using output_type = Y;

  SlurmMaster(std::vector<std::string> command, SlurmOptions options = {})
      : command_(std::move(command)), options_(std::move(options)) {
    if (options_.max_jobs == 0)
      throw std::invalid_argument("SlurmMaster: max_jobs must be at least 1");
    std::filesystem::create_directories(options_.work_directory);
    options_.work_directory = std::filesystem::absolute(options_.work_directory);
    const auto ledger = options_.work_directory / "jobs.jsonl";
    if (options_.adopt_jobs) {
      read_ledger(ledger);
    } else {
      std::ofstream(ledger, std::ios::trunc);
    }
    ledger_.open(ledger, std::ios::app);
  }
  SlurmMaster(const SlurmMaster&) = delete;
  SlurmMaster& operator=(const SlurmMaster&) = delete;
  ~SlurmMaster() { cancel(); }

  [[nodiscard]] std::size_t capacity() const noexcept { return options_.max_jobs; }

  void submit(Task<X> task) {
    if (!adoptable_.empty() && adopt(task)) {
      queue_.owe_one();
      return;
    }
    queue_.submit(std::move(task));
  }

  std::optional<Result<X, Y>> next() {
    submit_waiting();
    return queue_.next(
        [] {},
        [this] {
          if (options_.give_up && options_.give_up()) {
            cancel();
            return detail::Waited::gave_up;
          }
          poll();
          if (!queue_.has_results()) {
            std::this_thread::sleep_for(std::chrono::duration<double>(options_.poll_interval));
          }
          return detail::Waited::progress;
        });
  }

  /// Cancels every job not yet finished and forgets their tasks.
  void cancel() {
    queue_.drop_unresolved();
    std::vector<std::string> ids;
    for (const auto& [id, job] : jobs_) ids.push_back(job.slurm_id);
    jobs_.clear();
    if (ids.empty()) return;
    std::vector<std::string> argv{"scancel"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    detail::run_to_end(argv);
  }

  /// The SLURM job ids of the tasks outstanding now ("123" or "123_4").
  [[nodiscard]] std::vector<std::string> job_ids() const {
    std::vector<std::string> ids;
    for (const auto& [id, job] : jobs_) ids.push_back(job.slurm_id);
    return ids;
  }

 private:
  struct Job {
    Task<X> task;
    std::string slurm_id;
    unsigned unseen = 0;  // looks at the queue that did not list the job
  };
  // A job squeue stops listing (purged, or the controller restarted) fails
  // after this many looks rather than being waited for forever.
  static constexpr unsigned unseen_limit = 50;

  /// The jobs an earlier master recorded, by task id (the last one counts).
  void read_ledger(const std::filesystem::path& path) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto j = parse_json(line);
      if (!j.is_object() || !j.contains("id") || !j["id"].is_number_unsigned() ||
          !j.contains("x") || !j.contains("job") || !j["job"].is_string())
        continue;
      adoptable_[j["id"].get<TaskId>()] = {j["x"].dump(), j["job"].get<std::string>()};
    }
  }

  /// Follows the recorded job of `task`, or takes its finished output.
  /// False when there is nothing to adopt and the task must go out.
  bool adopt(Task<X>& task) {
    const auto it = adoptable_.find(task.id);
    if (it == adoptable_.end()) return false;
    const auto [x, slurm_id] = it->second;
    adoptable_.erase(it);
    if (nlohmann::json::parse(encode(task.x)).dump() != x) return false;  // another point
    const auto listed = detail::run_to_end({"squeue", "-h", "-r", "-t", "all", "-o", "%i", "-j",
                                            slurm_id.substr(0, slurm_id.find('_'))});
    std::istringstream ids(listed.out);
    for (std::string id; ids >> id;) {
      if (id == slurm_id) {
        record(task.id, task.x, slurm_id);
        jobs_.emplace(slurm_id, Job{std::move(task), slurm_id});
        return true;
      }
    }
    // Gone from the queue: its output counts if it is whole.
    auto parsed = parse_command_output<Y>(read_text(file(task.id, "out")));
    if (!parsed.y) return false;
    record(task.id, task.x, slurm_id);
    queue_.deliver(Result<X, Y>::success(task.id, std::move(task.x), std::move(*parsed.y)));
    return true;
  }

  void record(TaskId id, const X& x, const std::string& slurm_id) {
    ledger_ << fmt::format("{{\"id\":{},\"x\":{},\"job\":\"{}\"}}\n", id, encode(x), slurm_id)
            << std::flush;
  }

  /// A file a job wrote, whole (empty if it is not there).
  static std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path file(TaskId id, const char* suffix) const {
    return options_.work_directory / fmt::format("task-{}.{}", id, suffix);
  }

  /// Writes one script for the waiting tasks (an array when there are
  /// several) and hands it to sbatch.
  void submit_waiting() {
    if (!queue_.has_waiting()) return;
    std::vector<Task<X>> batch;
    do {
      batch.push_back(queue_.take_waiting());
    } while (options_.arrays && queue_.has_waiting());
    const bool array = batch.size() > 1;
    std::string script = "#!/bin/bash\n";
    script += fmt::format("#SBATCH --job-name={}\n", options_.job_name);
    const auto log = options_.work_directory / (array ? "job-%A_%a.log" : "job-%j.log");
    script += fmt::format("#SBATCH --output={}\n", log.string());
    if (array) script += fmt::format("#SBATCH --array=0-{}\n", batch.size() - 1);
    if (!options_.partition.empty())
      script += fmt::format("#SBATCH --partition={}\n", options_.partition);
    if (!options_.time_limit.empty())
      script += fmt::format("#SBATCH --time={}\n", options_.time_limit);
    script += fmt::format("#SBATCH --cpus-per-task={}\n", options_.cpus_per_task);
    if (!options_.memory.empty()) script += fmt::format("#SBATCH --mem={}\n", options_.memory);
    for (const auto& line : options_.sbatch_lines) script += fmt::format("#SBATCH {}\n", line);
    script += array ? "case \"$SLURM_ARRAY_TASK_ID\" in\n" : "";
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Task<X>& task = batch[i];
      // The command is a list of arguments, not shell text: each one is
      // quoted whole in the script.
      auto values = PlaceholderValues::of(nlohmann::json::parse(encode(task.x)), task.id);
      if (options_.single_component_as_number && values.components.size() == 1)
        values.x = values.components.front();
      const auto argv = command_.expand(values);
      std::string line;
      for (const auto& arg : argv) {
        if (!line.empty()) line += ' ';
        line += shell_quote(arg);
      }
      line += fmt::format(" > {} 2> {}", shell_quote(file(task.id, "out").string()),
                          shell_quote(file(task.id, "err").string()));
      script += array ? fmt::format("  {}) {} ;;\n", i, line) : line + "\n";
    }
    script += array ? "esac\n" : "";
    const auto script_file = options_.work_directory / fmt::format("job-{}.sh", batch.front().id);
    std::ofstream(script_file) << script;

    const auto outcome = detail::run_to_end({"sbatch", "--parsable", script_file.string()});
    if (outcome.status != 0) {
      for (auto& task : batch) {
        queue_.deliver(Result<X, Y>::failure(task.id, std::move(task.x),
                                             fmt::format("sbatch failed: {}", outcome.err)));
      }
      return;
    }
    const std::string job_id = outcome.out.substr(0, outcome.out.find_first_of(";\n"));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string slurm_id = array ? fmt::format("{}_{}", job_id, i) : job_id;
      record(batch[i].id, batch[i].x, slurm_id);
      jobs_.emplace(slurm_id, Job{std::move(batch[i]), slurm_id});
    }
  }

  /// One look at the queue: every job in a final state becomes a result.
  void poll() {
    std::string list;
    for (const auto& [id, job] : jobs_) {
      if (!list.empty()) list += ',';
      list.append(id, 0, id.find('_'));
    }
    const auto outcome =
        detail::run_to_end({"squeue", "-h", "-r", "-t", "all", "-o", "%i|%T|%r", "-j", list});
    std::istringstream lines(outcome.out);
    std::string line;
    std::map<std::string, std::pair<std::string, std::string>> states;
    while (std::getline(lines, line)) {
      const auto a = line.find('|');
      const auto b = line.find('|', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      states[line.substr(0, a)] = {line.substr(a + 1, b - a - 1), line.substr(b + 1)};
    }
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      auto s = states.find(it->first);
      if (s == states.end() && ++it->second.unseen > unseen_limit && outcome.status == 0) {
        queue_.deliver(
            Result<X, Y>::failure(it->second.task.id, std::move(it->second.task.x),
                                  fmt::format("SLURM job {} vanished from the queue", it->first)));
        it = jobs_.erase(it);
        continue;
      }
      if (s == states.end() || !is_final(s->second.first)) {
        ++it;
        continue;
      }
      queue_.deliver(finish(it->second, s->second.first, s->second.second));
      it = jobs_.erase(it);
    }
  }

  static bool is_final(const std::string& state) {
    return state == "COMPLETED" || state == "FAILED" || state == "CANCELLED" ||
           state == "TIMEOUT" || state == "NODE_FAIL" || state == "OUT_OF_MEMORY" ||
           state == "BOOT_FAIL" || state == "DEADLINE" || state == "PREEMPTED";
  }

  Result<X, Y> finish(Job& job, const std::string& state, const std::string& reason) {
    const TaskId id = job.task.id;
    if (state == "COMPLETED") {
      auto parsed = parse_command_output<Y>(read_text(file(id, "out")));
      if (parsed.y) return Result<X, Y>::success(id, std::move(job.task.x), std::move(*parsed.y));
      return Result<X, Y>::failure(
          id, std::move(job.task.x),
          fmt::format("SLURM job {}: the command {}", job.slurm_id, parsed.error));
    }
    std::string exit_code;
    const auto info = detail::run_to_end({"scontrol", "-o", "show", "job", job.slurm_id});
    if (const auto at = info.out.find("ExitCode="); at != std::string::npos) {
      exit_code = info.out.substr(at + 9, info.out.find(' ', at) - at - 9);
    }
    std::string stderr_tail = read_text(file(id, "err"));
    if (stderr_tail.size() > 1000) stderr_tail = stderr_tail.substr(stderr_tail.size() - 1000);
    return Result<X, Y>::failure(
        id, std::move(job.task.x),
        fmt::format("SLURM job {} {} ({}), exit code {}; stderr: {}", job.slurm_id, state, reason,
                    exit_code.empty() ? "unknown" : exit_code, stderr_tail));
  }

  CommandTemplate command_;
  SlurmOptions options_;
  detail::TaskQueue<X, Y> queue_;    // tasks not yet submitted, results not yet taken
  std::map<std::string, Job> jobs_;  // by SLURM id
  std::ofstream ledger_;
  std::map<TaskId, std::pair<std::string, std::string>> adoptable_;  // id -> (x, job)
};

}  // namespace taskmaster
