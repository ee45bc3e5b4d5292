#pragma once
// A master whose workers are the other ranks of an MPI job.

#include <mpi.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/master.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/masters/timed_call.hpp"

namespace taskmaster {

/// Starts MPI for the lifetime of the object (MPI_Init_thread and
/// MPI_Finalize), for programs that use MPIMaster and nothing else of MPI.
class MpiSession {
 public:
  /// For programs that do not hand their arguments to MPI.
  MpiSession() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  }
  MpiSession(int& argc, char**& argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession() { MPI_Finalize(); }
};

/// Rank 0 runs the loop; every other rank evaluates tasks, one at a time,
/// with a C++ callable (`serve()`) or through a master of its own
/// (`serve(local)`): a CommandMaster runs an external program per point, a
/// StdioMaster keeps a worker program of any language running on that rank.
/// Capacity is the number of worker ranks. Inputs and outputs travel as their history
/// encoding (see history/codec.hpp), so any type a history can hold works.
/// An exception in the callable is a failed result, not a dead rank. When
/// rank 0's MPIMaster is destroyed, normally or while an exception unwinds,
/// it tells every worker to stop, so no rank is left waiting.
///
/// @code
/// int main(int argc, char** argv) {
///   taskmaster::MpiSession mpi(argc, argv);
///   taskmaster::MPIMaster<double, double> master([](double x) { return simulate(x); });
///   if (!master.is_root()) return master.serve(), 0;
///   taskmaster::Learner1D<double> learner(0.0, 1.0);
///   taskmaster::evaluate(master, learner, taskmaster::stop::points(1000));
/// }
/// @endcode
///
/// With an external program on every worker rank:
///
/// @code
/// taskmaster::MPIMaster<double, double> master;
/// if (!master.is_root()) {
///   taskmaster::CommandMaster<double, double> program({"./simulate", "{x}"});
///   return master.serve(program), 0;
/// }
/// @endcode
template <class X, class Y>
class MPIMaster {
 public:
  using input_type = X;
  using output_type = Y;
  using Function = std::function<Y(const X&)>;

  /// Workers of this master evaluate with `serve(local)`; rank 0 needs nothing more.
  explicit MPIMaster(MPI_Comm comm = MPI_COMM_WORLD) : MPIMaster(Function{}, comm) {}

  explicit MPIMaster(Function f, MPI_Comm comm = MPI_COMM_WORLD) : f_(std::move(f)), comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (rank_ == 0) {
      for (int r = size_ - 1; r >= 1; --r) idle_.push_back(r);
    }
  }
  MPIMaster(const MPIMaster&) = delete;
  MPIMaster& operator=(const MPIMaster&) = delete;

  ~MPIMaster() {
    if (rank_ != 0) return;
    for (int r = 1; r < size_; ++r) MPI_Send(nullptr, 0, MPI_CHAR, r, stop_tag, comm_);
  }

  [[nodiscard]] bool is_root() const noexcept { return rank_ == 0; }

  /// On a worker rank: evaluates tasks with the callable until rank 0 says stop.
  void serve() {
    if (!f_) throw std::logic_error("MPIMaster::serve: no callable; give one or use serve(local)");
    serve_with([this](Task<X> t) { return detail::timed_call<X, Y>(f_, std::move(t), rank_); });
  }

  /// On a worker rank: hands each task to `local` (a master of this rank's
  /// own, one task at a time) until rank 0 says stop. What `local` reports
  /// (a failure with its reason, a timeout) goes back to rank 0 as it is.
  template <class Local>
  requires Master<Local> && std::same_as<typename Local::input_type, X> &&
      std::same_as<typename Local::output_type, Y>
  void serve(Local& local) {
    serve_with([this, &local](Task<X> t) {
      const TaskId id = t.id;
      X x = t.x;
      local.submit(std::move(t));
      for (;;) {
        std::optional<Result<X, Y>> r = local.next();
        if (!r) {
          return Result<X, Y>::failure(
              id, std::move(x), fmt::format("rank {}: its master delivered no result", rank_),
              rank_);
        }
        if (r->id != id) continue;  // cannot happen with one task at a time
        r->worker = rank_;
        return std::move(*r);
      }
    });
  }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return size_ > 1 ? static_cast<std::size_t>(size_ - 1) : 0;
  }

  void submit(Task<X> task) {
    if (idle_.empty()) {
      queued_.push_back(std::move(task));
      return;
    }
    send(std::move(task));
  }

  std::optional<Result<X, Y>> next() {
    for (;;) {
      if (running_.empty()) return std::nullopt;
      MPI_Status status;
      MPI_Probe(MPI_ANY_SOURCE, result_tag, comm_, &status);
      const std::string message = receive(status);
      const int worker = status.MPI_SOURCE;
      auto it = running_.find(worker);
      Task<X> task = std::move(it->second);
      running_.erase(it);
      idle_.push_back(worker);
      if (!queued_.empty()) {
        send(std::move(queued_.front()));
        queued_.pop_front();
      }
      if (cancelled_.erase(task.id) > 0) continue;
      return to_result(std::move(task), worker, message);
    }
  }

  /// Drops queued tasks; results of running ones are discarded on arrival.
  void cancel() {
    queued_.clear();
    for (const auto& [rank, task] : running_) cancelled_.insert(task.id);
  }

 private:
  static constexpr int task_tag = 1;
  static constexpr int result_tag = 2;
  static constexpr int stop_tag = 3;

  template <class Evaluate>
  void serve_with(Evaluate evaluate) {
    if (rank_ == 0) throw std::logic_error("MPIMaster::serve: rank 0 runs the loop, not a worker");
    for (;;) {
      MPI_Status status;
      MPI_Probe(0, MPI_ANY_TAG, comm_, &status);
      if (status.MPI_TAG == stop_tag) {
        MPI_Recv(nullptr, 0, MPI_CHAR, 0, stop_tag, comm_, MPI_STATUS_IGNORE);
        return;
      }
      const std::string message = receive(status);
      const auto task = nlohmann::json::parse(message);
      Result<X, Y> result = evaluate(Task<X>{task.at("id").get<TaskId>(), decode<X>(task.at("x"))});
      std::string reply = fmt::format("{{\"id\":{},\"dt\":", result.id);
      encode(reply, result.duration);
      if (result.ok()) {
        reply += ",\"y\":";
        encode(reply, *result.y);
      } else {
        reply += ",\"error\":";
        encode(reply, result.error);
      }
      reply += '}';
      MPI_Send(reply.data(), static_cast<int>(reply.size()), MPI_CHAR, 0, result_tag, comm_);
    }
  }

  std::string receive(const MPI_Status& status) {
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    std::string message(static_cast<std::size_t>(count), '\0');
    MPI_Recv(message.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, comm_,
             MPI_STATUS_IGNORE);
    return message;
  }

  void send(Task<X> task) {
    const int worker = idle_.back();
    idle_.pop_back();
    std::string message = fmt::format("{{\"id\":{},\"x\":", task.id);
    encode(message, task.x);
    message += '}';
    MPI_Send(message.data(), static_cast<int>(message.size()), MPI_CHAR, worker, task_tag, comm_);
    running_.emplace(worker, std::move(task));
  }

  Result<X, Y> to_result(Task<X> task, int worker, const std::string& message) {
    try {
      const auto reply = nlohmann::json::parse(message);
      const double duration = decode<double>(reply.at("dt"));
      if (reply.contains("y")) {
        return Result<X, Y>::success(task.id, std::move(task.x), decode<Y>(reply.at("y")), worker,
                                     duration);
      }
      return Result<X, Y>::failure(task.id, std::move(task.x), reply.at("error").get<std::string>(),
                                   worker, duration);
    } catch (const std::exception& e) {
      return Result<X, Y>::failure(
          task.id, std::move(task.x),
          fmt::format("rank {} sent an unreadable reply: {}", worker, e.what()), worker);
    }
  }

  Function f_;
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<int> idle_;
  std::unordered_map<int, Task<X>> running_;
  std::deque<Task<X>> queued_;
  std::unordered_set<TaskId> cancelled_;
};

}  // namespace taskmaster
