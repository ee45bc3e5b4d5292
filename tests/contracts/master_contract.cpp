// The contract every master keeps, checked over every one: no more
// evaluations run at once than its capacity, even when more tasks are
// submitted; every task is answered exactly once, with its own input;
// cancel() leaves nothing to deliver and the master usable; a failing
// evaluation comes back as a failure carrying its reason. A new master gets
// the whole suite from one case below (how to build it around a function,
// or, for a master that evaluates in other processes, around a named
// evaluation its workers run) and one line in `MasterCases`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "contracts/contract_evaluations.hpp"
#include "support/temp_files.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/process_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

using Function = std::function<double(const double&)>;
using contract::WorkerEvaluation;

// --- the masters under contract ----------------------------------------------

struct ThreadMasterCase {
  using M = ThreadMaster<double, double>;
  static M make(Function f) { return M(std::move(f), 4); }
};

struct BatchMasterCase {
  using M = BatchMaster<double, double>;
  static M make(Function f) {
    return M(
        [f = std::move(f)](std::span<const double> xs) {
          std::vector<double> ys;
          for (double x : xs) ys.push_back(f(x));
          return ys;
        },
        {.max_batch = 3, .evaluators = 2});
  }
  /// An exception fails every task of the call that threw (documented).
  static constexpr bool fails_whole_batch = true;
};

struct SerialMasterCase {
  using M = SerialMaster<double, double>;
  static M make(Function f) { return M(std::move(f)); }
};

struct SimulatedMasterCase {
  using M = SimulatedMaster<double, double>;
  static M make(Function f) {
    return M(std::move(f), 4, TaskDurations::lognormal(0.0, 1.0), {.seed = 7});
  }
};

// Out of process: the workers are contract_worker (contract_worker.cpp).

struct CommandMasterCase {
  using M = CommandMaster<double, double>;
  static M make(const WorkerEvaluation& e) {
    // In sanitizer builds, the leak check at the exit of every program would
    // take most of the suite's time; this process is still checked.
    auto environment = e.environment;
    const char* asan_options = std::getenv("ASAN_OPTIONS");
    environment["ASAN_OPTIONS"] =
        std::string(asan_options != nullptr ? asan_options : "") + ":detect_leaks=0";
    return M({CONTRACT_WORKER_PATH, "--command", e.name, "{x}"},
             {.workers = 4, .environment = std::move(environment)});
  }
  /// Each task is a program started: fewer of them keep the suite quick.
  static constexpr std::size_t tasks_to_answer = 40;
};

struct ProcessMasterCase {
  using M = ProcessMaster<double, double>;
  static M make(const WorkerEvaluation& e) {
    return M(e.name, {.workers = 4, .environment = e.environment}, CONTRACT_WORKER_PATH);
  }
};

struct StdioMasterCase {
  using M = StdioMaster<double, double>;
  static M make(const WorkerEvaluation& e) {
    return M({CONTRACT_WORKER_PATH, "--stdio", e.name},
             {.workers = 4, .environment = e.environment});
  }
};

// The whole suite runs for each of these.
using MasterCases =
    ::testing::Types<ThreadMasterCase, BatchMasterCase, SerialMasterCase, SimulatedMasterCase,
                     CommandMasterCase, ProcessMasterCase, StdioMasterCase>;

// --- helpers -------------------------------------------------------------------

template <class Case>
constexpr bool fails_whole_batch = requires {
  requires Case::fails_whole_batch;
};

/// How many tasks the exactly-once test has answered: 200 unless the case
/// says otherwise.
template <class Case>
constexpr std::size_t tasks_to_answer = [] {
  if constexpr (requires { Case::tasks_to_answer; }) {
    return Case::tasks_to_answer;
  } else {
    return std::size_t{200};
  }
}();

template <class Case>
class MasterContract : public ::testing::Test {
 protected:
  MasterContract() { overlap_.reset(); }

  /// The case's master, evaluating the contract evaluation `name` (in this
  /// process, or in its workers).
  auto make(std::string_view name) {
    if constexpr (requires { Case::make(Function{}); }) {
      return Case::make([name, overlap = overlap_](const double& x) {
        return contract::evaluate(name, x, overlap);
      });
    } else {
      return Case::make(WorkerEvaluation{
          std::string(name), {{contract::overlap_file_variable, overlap_.path().string()}}});
    }
  }

  /// The evaluations of `contract::doubled_slowly`, counted.
  [[nodiscard]] contract::OverlapCounts overlap() const { return overlap_.counts(); }

 private:
  test_support::TempDir directory_;
  contract::OverlapFile overlap_{directory_.file("overlap")};
};

TYPED_TEST_SUITE(MasterContract, MasterCases);

TYPED_TEST(MasterContract, RunsNoMoreEvaluationsAtOnceThanItsCapacity) {
  auto master = this->make(contract::doubled_slowly);
  const std::size_t capacity = master.capacity();
  ASSERT_GE(capacity, 1U);
  // Three times the capacity at once, as a resumed run may submit.
  const std::size_t tasks = 3 * capacity;
  for (std::size_t i = 0; i < tasks; ++i) master.submit({i, static_cast<double>(i)});
  for (std::size_t i = 0; i < tasks; ++i) ASSERT_TRUE(master.next().has_value());
  const auto overlap = this->overlap();
  EXPECT_EQ(overlap.running, 0) << "an evaluation still counted after its answer";
  EXPECT_GE(overlap.most, 1);
  EXPECT_LE(static_cast<std::size_t>(overlap.most), capacity);
}

TYPED_TEST(MasterContract, AnswersEveryTaskExactlyOnceWithItsOwnInput) {
  auto master = this->make(contract::squared);
  const std::size_t total = tasks_to_answer<TypeParam>;
  std::map<TaskId, int> answers;
  std::size_t submitted = 0;
  std::size_t in_flight = 0;
  while (answers.size() < total) {
    while (submitted < total && in_flight < master.capacity()) {
      master.submit({submitted, 0.5 * static_cast<double>(submitted)});
      ++submitted;
      ++in_flight;
    }
    auto result = master.next();
    ASSERT_TRUE(result.has_value()) << answers.size() << " answered of " << total;
    --in_flight;
    ASSERT_TRUE(result->ok()) << result->error;
    EXPECT_EQ(result->x, 0.5 * static_cast<double>(result->id));
    EXPECT_EQ(*result->y, result->x * result->x);
    EXPECT_EQ(++answers[result->id], 1) << "task " << result->id << " answered twice";
  }
  EXPECT_EQ(answers.size(), total);
  EXPECT_EQ(answers.rbegin()->first, total - 1);
}

TYPED_TEST(MasterContract, CancelLeavesNothingToDeliverAndTheMasterUsable) {
  auto master = this->make(contract::doubled_slowly);
  const std::size_t capacity = master.capacity();
  for (std::size_t i = 0; i < 3 * capacity; ++i) master.submit({i, static_cast<double>(i)});
  ASSERT_TRUE(master.next().has_value());
  master.cancel();
  EXPECT_FALSE(master.next().has_value()) << "a result delivered after cancel()";

  // Tasks after the cancel are answered, and only they: nothing of before.
  const TaskId first_new = 1000;
  for (TaskId id = first_new; id < first_new + capacity; ++id) {
    master.submit({id, static_cast<double>(id)});
  }
  std::vector<TaskId> answered;
  for (std::size_t i = 0; i < capacity; ++i) {
    auto result = master.next();
    ASSERT_TRUE(result.has_value());
    EXPECT_GE(result->id, first_new) << "a task submitted before cancel() was answered";
    EXPECT_EQ(*result->y, 2 * result->x);
    answered.push_back(result->id);
  }
  std::sort(answered.begin(), answered.end());
  EXPECT_EQ(std::unique(answered.begin(), answered.end()), answered.end());
}

TYPED_TEST(MasterContract, AFailingEvaluationComesBackWithItsReason) {
  auto master = this->make(contract::square_root);
  const std::size_t total = 2 * master.capacity() + 2;
  std::size_t failed = 0;
  std::size_t in_flight = 0;
  std::size_t submitted = 0;
  std::size_t answered = 0;
  while (answered < total) {
    while (submitted < total && in_flight < master.capacity()) {
      const double x = submitted % 2 == 0 ? -static_cast<double>(submitted) - 1.0
                                          : static_cast<double>(submitted);
      master.submit({submitted, x});
      ++submitted;
      ++in_flight;
    }
    auto result = master.next();
    ASSERT_TRUE(result.has_value());
    --in_flight;
    ++answered;
    if (result->x < 0) {
      ++failed;
      EXPECT_FALSE(result->ok());
      // Its own reason; in a batch, the reason of the input that failed the call.
      const std::string reason = fails_whole_batch<TypeParam>
                                     ? "no square root of -"
                                     : "no square root of " + std::to_string(result->x);
      EXPECT_NE(result->error.find(reason), std::string::npos) << result->error;
    } else if (result->ok()) {
      EXPECT_EQ(*result->y, std::sqrt(result->x));
    } else {
      // Only a master that evaluates in batches may fail a good input, for
      // the failing input evaluated in the same call, and it says so.
      EXPECT_TRUE(fails_whole_batch<TypeParam>) << result->error;
      EXPECT_NE(result->error.find("no square root of"), std::string::npos) << result->error;
    }
  }
  EXPECT_EQ(failed, (total + 1) / 2);
}

}  // namespace
