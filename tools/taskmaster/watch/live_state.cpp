#include "live_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "../config.hpp"
#include "../learner_descriptor.hpp"
#include "../run.hpp"
#include "taskmaster/history/json_text.hpp"

namespace taskmaster::cli::watch {
namespace {

/// A value of the history as numbers: a number, "nan"/"inf"/"-inf", or an
/// array of them (an input of several coordinates, an output of several
/// components). Anything else (a library run's own types) has no number.
void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_number()) {
    out.push_back(j.get<double>());
  } else if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    out.push_back(s == "inf" ? HUGE_VAL : s == "-inf" ? -HUGE_VAL : std::nan(""));
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_number() || v.is_string()) flatten(v, out);
    }
  } else {
    out.push_back(std::nan(""));
  }
}

void append_number(std::string& out, double v) {
  if (std::isfinite(v)) {
    // Nine significant digits: more than a picture or a tooltip shows, and
    // half the bytes of the exact form for every watcher of a fast run.
    fmt::format_to(std::back_inserter(out), "{:.9g}", v);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

/// A failure reason without the task and process numbers, so that the same
/// failure of many tasks is counted as one reason (as `taskmaster info` does).
std::string without_task_details(const std::string& reason) {
  static const std::regex task_and_pid(R"( ?\(task \d+, pid \d+\)| ?\(pid \d+\))");
  return std::regex_replace(reason, task_and_pid, "");
}

nlohmann::json goal_json(const Goal& g) {
  static constexpr const char* names[] = {"npoints", "loss", "duration", "done"};
  return {{"kind", names[static_cast<int>(g.kind)]}, {"value", g.value}, {"text", g.to_string()}};
}

}  // namespace

LiveState::LiveState(std::string history_name) : history_name_(std::move(history_name)) {}

LiveState::~LiveState() = default;

void LiveState::restart() {
  std::lock_guard lock(mutex_);
  const std::string name = history_name_;
  const std::uint64_t generation = generation_ + 1;
  const std::uint64_t version = version_;
  // Everything but the synchronisation and who is waiting starts afresh.
  lines_ = 0;
  header_ = false;
  run_ = nlohmann::json();
  shadow_.reset();
  points_text_.clear();
  point_starts_.clear();
  x_components_ = y_components_ = 0;
  failures_.clear();
  reasons_.clear();
  warnings_.clear();
  outstanding_.clear();
  workers_.clear();
  asked_ = told_ = failed_ = retried_ = cancelled_ = 0;
  capacity_ = 0;
  busy_since_sample_ = 0;
  segment_ = 0;
  offset_ = now_ = 0;
  phase_ = "waiting";
  stop_reason_.clear();
  end_reason_.clear();
  samples_.clear();
  bucket_ = 0.05;
  series_epoch_ = 1;
  history_name_ = name;
  generation_ = generation;
  version_ = version;
  dirty_ = true;
  run_and_status_text_.clear();
}

void LiveState::warn(std::string text) {
  // A few are enough to see what is wrong; a damaged file must not fill memory.
  if (warnings_.size() < 20) warnings_.push_back(std::move(text));
}

void LiveState::apply(std::string_view line) {
  std::lock_guard lock(mutex_);
  ++lines_;
  dirty_ = true;
  std::string why;
  const nlohmann::json j = parse_json(line, &why);
  if (j.is_discarded() || !j.is_object()) {
    warn(fmt::format("line {}: {}", lines_, j.is_discarded() ? why : "not a JSON object"));
    return;
  }
  try {
    if (lines_ == 1) {
      apply_header(j);
    } else if (header_) {
      apply_event(j);
    }
  } catch (const nlohmann::json::exception& e) {
    warn(fmt::format("line {}: {}", lines_, e.what()));  // a field of the wrong type
  }
}

void LiveState::apply_header(const nlohmann::json& j) {
  if (!j.contains("taskmaster_history")) {
    warn("line 1: not a taskmaster history (no header)");
    phase_ = "invalid";
    return;
  }
  header_ = true;
  phase_ = "running";
  run_ = nlohmann::json::object();
  run_["history"] = history_name_;
  run_["seed"] = j.value("seed", std::uint64_t{0});
  run_["retries"] = j.value("retries", 0);
  run_["on_failure"] = j.value("on_failure", "");
  run_["started"] = j.value("started", "");
  configure(j.contains("meta") ? j["meta"] : nlohmann::json());
}

void LiveState::configure(const nlohmann::json& meta) {
  RunConfig c;
  try {
    c = RunConfig::from_json(meta);
    c.validate_settings();
  } catch (const std::exception&) {
    // A run of the library, with metadata of its own: shown without a learner.
    run_["tool"] = false;
    run_["learner"] = "unknown";
    run_["meta"] = meta;
    return;
  }
  run_["tool"] = true;
  run_["learner"] = c.learner;
  run_["bounds"] = c.bounds;
  run_["loss"] = c.loss.empty() ? learner_named(c.learner).default_loss() : c.loss;
  run_["loss_params"] = c.loss_params;
  run_["learner_params"] = c.learner_params;
  run_["goals"] = nlohmann::json::array();
  for (const auto& g : c.goals) run_["goals"].push_back(goal_json(g));
  std::string program;
  for (const auto& a : c.command.empty() ? c.worker : c.command) {
    if (!program.empty()) program += ' ';
    program += shell_quote(a);
  }
  run_["program"] = program;
  run_["mode"] = c.command.empty() ? "long-running workers" : "one process per point";
  run_["master"] = c.master;
  run_["workers"] = c.workers;
  run_["timeout"] = c.timeout ? nlohmann::json(*c.timeout) : nlohmann::json();
  run_["input_names"] = c.input_names();
  // A learner of seeds has no bounds but is drawn against one axis.
  run_["dimension"] = std::max<std::size_t>(c.dimension(), 1);
  if (!shadow_) {
    try {
      shadow_ = ShadowLearner::make(c);
    } catch (const std::exception& e) {
      warn(fmt::format("no learner to follow the run: {}", e.what()));
    }
  }
}

void LiveState::apply_event(const nlohmann::json& j) {
  const std::string e = j.at("e").get<std::string>();
  const double t = j.value("t", 0.0);
  if (e == "resume") {
    segment_ = j.value("segment", segment_ + 1);
    offset_ = now_;
    phase_ = "running";
    stop_reason_.clear();
    end_reason_.clear();
    if (j.contains("started")) run_["resumed"] = j["started"];
    if (j.contains("meta")) configure(j["meta"]);
  }
  now_ = std::max(now_, offset_ + (std::isfinite(t) ? t : 0.0));
  const auto id = j.value("id", std::uint64_t{0});
  if (e == "capacity") {
    capacity_ = j.at("n").get<std::size_t>();
  } else if (e == "ask") {
    ++asked_;
    outstanding_[id] = j.at("x");
    busy_since_sample_ = std::max(busy_since_sample_, outstanding_.size());
    if (x_components_ == 0) {
      std::vector<double> x;
      flatten(j.at("x"), x);
      x_components_ = x.size();
    }
  } else if (e == "tell" || e == "fail" || e == "cancel") {
    const auto it = outstanding_.find(id);
    if (it == outstanding_.end()) {
      warn(fmt::format("line {}: task {} was not asked", lines_, id));
      return;
    }
    const nlohmann::json x = it->second;
    const bool retry = e == "fail" && j.value("retry", false);
    if (!retry) outstanding_.erase(it);
    if (e == "cancel") {
      ++cancelled_;
    } else {
      auto& w = workers_[j.value("worker", -1)];
      ++w.tasks;
      w.busy += j.value("dt", 0.0);
    }
    if (e == "tell") {
      ++told_;
      std::vector<double> row, y;
      flatten(x, row);
      flatten(j.at("y"), y);
      if (y_components_ == 0) y_components_ = y.size();
      row.insert(row.end(), y.begin(), y.end());
      append_point(row);
      if (shadow_) shadow_->tell(x, y);
    } else if (e == "fail") {
      retry ? ++retried_ : ++failed_;
      const std::string error = j.value("error", "");
      if (!retry) ++reasons_[without_task_details(error)];
      if (failures_.size() < max_failures) {
        failures_.push_back({{"id", id},
                             {"x", x},
                             {"error", error},
                             {"retry", retry},
                             {"worker", j.value("worker", -1)},
                             {"t", now_}});
      }
    }
  } else if (e == "stop") {
    stop_reason_ = j.value("reason", "");
  } else if (e == "end") {
    end_reason_ = j.value("reason", "");
    phase_ = "ended";
    sample(true);
    return;
  }
  sample(false);
}

void LiveState::sample(bool force) {
  if (!force && !samples_.empty() && now_ < samples_.back().t + bucket_) return;
  const auto loss = shadow_ ? shadow_->loss() : std::nullopt;
  // Busy: the most tasks in flight since the last sample; a sample taken
  // just after a result would always find one worker idle.
  const std::size_t busy = std::max(busy_since_sample_, outstanding_.size());
  busy_since_sample_ = outstanding_.size();
  samples_.push_back({now_, static_cast<double>(told_), static_cast<double>(failed_),
                      phase_ == "ended" ? 0.0 : static_cast<double>(busy),
                      static_cast<double>(capacity_), loss.value_or(std::nan(""))});
  if (samples_.size() > max_samples) {
    // Half the resolution, for a bounded series however long the run.
    std::vector<Sample> kept;
    for (std::size_t i = 0; i < samples_.size(); i += 2) kept.push_back(samples_[i]);
    if (kept.back().t != samples_.back().t) kept.push_back(samples_.back());
    samples_ = std::move(kept);
    bucket_ *= 2;
    ++series_epoch_;
  }
}

void LiveState::publish(bool found) {
  {
    std::lock_guard lock(mutex_);
    if (!dirty_ && found == found_) return;
    found_ = found;
    dirty_ = false;
    ++version_;
  }
  changed_.notify_all();
}

void LiveState::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool LiveState::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::uint64_t LiveState::wait_for_change(std::uint64_t seen,
                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return closed_ || version_ != seen; });
  return version_;
}

nlohmann::json LiveState::status_json() const {
  nlohmann::json s;
  s["phase"] = phase_;
  s["found"] = found_;
  s["lines"] = lines_;
  s["asked"] = asked_;
  s["told"] = told_;
  s["failed"] = failed_;
  s["retried"] = retried_;
  s["cancelled"] = cancelled_;
  s["in_flight"] = phase_ == "ended" ? 0 : outstanding_.size();
  s["capacity"] = capacity_;
  s["segment"] = segment_;
  s["elapsed"] = now_;
  const auto loss = shadow_ ? shadow_->loss() : std::nullopt;
  s["loss"] = loss && std::isfinite(*loss) ? nlohmann::json(*loss) : nlohmann::json();
  s["stop_reason"] = stop_reason_;
  s["end_reason"] = end_reason_;
  s["x_components"] = x_components_;
  s["y_components"] = y_components_;
  s["reasons"] = reasons_;
  s["warnings"] = warnings_;
  auto& workers = s["workers"] = nlohmann::json::array();
  for (const auto& [id, w] : workers_) {
    if (workers.size() == 256) break;  // a SLURM run has one "worker" per job slot
    workers.push_back({{"id", id}, {"tasks", w.tasks}, {"busy", w.busy}});
  }
  return s;
}

void LiveState::append_point(const std::vector<double>& row) {
  // Written as text once, when it arrives: every snapshot and delta after
  // that copies bytes instead of formatting numbers again for each watcher.
  if (!point_starts_.empty()) points_text_ += ',';
  point_starts_.push_back(points_text_.size());
  points_text_ += '[';
  for (std::size_t k = 0; k < row.size(); ++k) {
    if (k != 0) points_text_ += ',';
    append_number(points_text_, row[k]);
  }
  points_text_ += ']';
}

void LiveState::append_points_json(std::string& out, std::size_t from) const {
  const std::size_t start = from < point_starts_.size() ? point_starts_[from] : points_text_.size();
  out.reserve(out.size() + points_text_.size() - start + 3);
  out += '[';
  out.append(points_text_, start);
  out += ']';
}

void LiveState::append_points_sample(std::string& out, std::size_t from, std::size_t count) const {
  const std::size_t n = point_starts_.size() - from;
  out += '[';
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t k = from + (i + 1) * n / count - 1;
    const std::size_t start = point_starts_[k];
    const std::size_t end =
        k + 1 < point_starts_.size() ? point_starts_[k + 1] - 1 : points_text_.size();
    if (i != 0) out += ',';
    out.append(points_text_, start, end - start);
  }
  out += ']';
}

namespace {

std::string series_json(const auto& samples, std::size_t from) {
  std::string out = "[";
  for (std::size_t i = from; i < samples.size(); ++i) {
    const auto& s = samples[i];
    out += i != from ? ",[" : "[";
    for (const double v : {s.t, s.told, s.failed, s.busy, s.capacity}) {
      append_number(out, v);
      out += ',';
    }
    append_number(out, s.loss);
    out += ']';
  }
  return out + "]";
}

}  // namespace

LiveState::Cursor LiveState::cursor_now(bool sampled) const {
  return {generation_,     point_starts_.size(), failures_.size(),
          samples_.size(), series_epoch_,        version_,
          sampled};
}

const std::string& LiveState::run_and_status_text() const {
  // A watcher's message is mostly this part: with many watchers, building
  // it once per version instead of once per watcher is most of the saving.
  if (run_and_status_version_ != version_ || run_and_status_text_.empty()) {
    run_and_status_text_ =
        fmt::format(R"("run":{},"status":{})", run_.dump(),
                    status_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    run_and_status_version_ = version_;
  }
  return run_and_status_text_;
}

std::string LiveState::snapshot(Cursor& cursor, std::size_t max_points) const {
  std::lock_guard lock(mutex_);
  const bool sample = point_starts_.size() > max_points;
  cursor = cursor_now(sample);
  std::string out = fmt::format(R"({{"generation":{},"history":{},{},)", generation_,
                                nlohmann::json(history_name_).dump(), run_and_status_text());
  out += R"("failures":)" +
         nlohmann::json(failures_).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += R"(,"series":)" + series_json(samples_, 0);
  out += fmt::format(R"(,"points_sampled":{},"points":)", sample);
  if (sample) {
    append_points_sample(out, 0, max_points);
  } else {
    append_points_json(out, 0);
  }
  out += '}';
  return out;
}

std::optional<LiveState::Message> LiveState::delta(Cursor& cursor, std::size_t max_points) const {
  std::unique_lock lock(mutex_);
  if (cursor.generation != generation_) {
    lock.unlock();
    Message m{"snapshot", {}};
    m.json = snapshot(cursor, max_points);
    return m;
  }
  if (cursor.version == version_) return std::nullopt;
  const bool reset = cursor.series_epoch != series_epoch_;
  std::string out =
      fmt::format(R"({{"generation":{},{},"series_reset":{},"series":{},"failures":)", generation_,
                  run_and_status_text(), reset,
                  series_json(samples_, reset ? 0 : std::min(cursor.series, samples_.size())));
  out += nlohmann::json(std::vector<nlohmann::json>(
                            failures_.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(cursor.failures, failures_.size())),
                            failures_.end()))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::size_t from = std::min(cursor.points, point_starts_.size());
  const bool sample = point_starts_.size() - from > max_points;
  const bool sampled = sample || cursor.sampled;
  // "points_sampled": what this watcher holds is a sample; "points_all":
  // this update has every new point (the page takes the whole set again
  // once updates keep up with the run).
  out += fmt::format(R"(,"points_sampled":{},"points_all":{},"points":)", sampled, !sample);
  if (sample) {
    append_points_sample(out, from, max_points);
  } else {
    append_points_json(out, from);
  }
  out += '}';
  cursor = cursor_now(sampled);
  return Message{"update", std::move(out)};
}

std::string LiveState::mesh(const MeshQuery& query) const {
  std::lock_guard lock(mutex_);
  if (!shadow_) return R"({"kind":"none"})";
  return shadow_->mesh(query);
}

}  // namespace taskmaster::cli::watch
