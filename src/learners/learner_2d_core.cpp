// Learner2D's bookkeeping: which points are told, pending or failed, the two
// triangulations (told data only, and told plus pending), and the log of
// changes that save() writes out.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "mesh_changes.hpp"
#include "mesh_proposal.hpp"
#include "point_table_2d.hpp"
#include "taskmaster/learners/large_pages.hpp"
#include "taskmaster/learners/learner_2d.hpp"
#include "taskmaster/learners/saved_state.hpp"
#include "triangle_mesh_2d.hpp"

namespace taskmaster::detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

struct PointHash {
  std::size_t operator()(const Point2& p) const noexcept {
    const auto a = std::bit_cast<std::uint64_t>(p[0]);
    const auto b = std::bit_cast<std::uint64_t>(p[1]);
    std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x7F4A7C159E3779B9ULL + (a << 6) + (a >> 2));
    h ^= h >> 29;
    return static_cast<std::size_t>(h * 0xBF58476D1CE4E5B9ULL);
  }
};

enum class State : std::uint8_t { pending, told, failed };

struct Known {
  std::uint32_t id;
  State state;
  std::uint32_t told_index;  // position in told_points once told
};

/// One change of the learner, as save() writes it and load() replays it.
enum class Change : std::uint8_t { pending, tell, fail, remove_unfinished, tell_many };

/// 24 bytes, two per point: where a record's values (and a tell_many's
/// points) start in record_values (record_points) follows from the counts of
/// the records before it, so it is not stored.
struct Record {
  Point2 x;
  std::uint32_t count;  // values (pending, tell); points (tell_many: vdim values each)
  Change change;
};

std::string describe(const Point2& p) { return fmt::format("({}, {})", p[0], p[1]); }

}  // namespace

struct Learner2DCore::Impl {
  Bounds2D bounds;
  double aspect_ratio;
  TriangleLoss loss;
  std::size_t vdim;
  Point2 mean{}, scale{};
  std::array<Point2, 4> corners{};

  // The arrays that grow with every point are in 2 MiB pages once large
  // (large_pages.hpp): in a fresh process each 4 KiB page of them would
  // otherwise cost a page fault, which is most of what separates a first run
  // from later ones.
  template <class T>
  using Growing = std::vector<T, LargePageAllocator<T>>;

  PointTable2D<Known> known;
  std::uint32_t next_id = 0;
  Growing<Point2> point_of_id;
  std::vector<Point2> told_points;
  Growing<double> told_values;
  std::size_t pending_count = 0;
  std::size_t failed_count = 0;

  TriangleMesh2D combined;  // told and pending points
  // The told data alone, for the real loss and interpolation. It follows the
  // told points lazily: only when asked for (in a sequential run with no
  // pending point, the combined triangulation answers instead).
  mutable TriangleMesh2D real;
  Growing<std::uint32_t> real_queue;  // ids to (re)insert into `real`
  mutable std::size_t real_synced = 0;

  Growing<Record> records;
  std::vector<double> pending_value;  // a new pending point's value: reused storage
  Growing<double> record_values;
  Growing<Point2> record_points;

  Impl(const Bounds2D& b, TriangleLoss l, double ar, std::size_t vd)
      : bounds(b),
        aspect_ratio(ar),
        loss(std::move(l)),
        vdim(vd),
        combined(&loss, vd),
        real(&loss, vd) {
    for (int d = 0; d < 2; ++d) {
      if (!std::isfinite(b[d][0]) || !std::isfinite(b[d][1]) || !(b[d][0] < b[d][1])) {
        throw std::invalid_argument(
            fmt::format("Learner2D: bounds along {} must be finite with min < max, got [{}, {}]",
                        d == 0 ? "x" : "y", b[d][0], b[d][1]));
      }
    }
    if (!std::isfinite(ar) || !(ar > 0)) {
      throw std::invalid_argument(
          fmt::format("Learner2D: aspect_ratio must be finite and > 0, got {}", ar));
    }
    if (!loss.function) throw std::invalid_argument("Learner2D: the loss has no function");
    mean = {(b[0][0] + b[0][1]) / 2, (b[1][0] + b[1][1]) / 2};
    scale = {b[0][1] - b[0][0], (b[1][1] - b[1][0]) / ar};
    corners = {Point2{b[0][0], b[1][0]}, Point2{b[0][0], b[1][1]}, Point2{b[0][1], b[1][0]},
               Point2{b[0][1], b[1][1]}};
  }

  [[nodiscard]] Point2 scaled(const Point2& p) const {
    return {(p[0] - mean[0]) / scale[0], (p[1] - mean[1]) / scale[1]};
  }
  [[nodiscard]] Point2 unscaled(const Point2& p) const {
    // A scalar clip: np.clip has rounding trouble (python-adaptive issue #7).
    return {std::clamp(p[0] * scale[0] + mean[0], bounds[0][0], bounds[0][1]),
            std::clamp(p[1] * scale[1] + mean[1], bounds[1][0], bounds[1][1])};
  }

  static Point2 normalized(const Point2& p) {
    return {p[0] == 0 ? 0.0 : p[0], p[1] == 0 ? 0.0 : p[1]};  // -0.0 and 0.0 are one point
  }

  void check_inside(const Point2& p, const char* what) const {
    if (!(p[0] >= bounds[0][0] && p[0] <= bounds[0][1] && p[1] >= bounds[1][0] &&
          p[1] <= bounds[1][1])) {
      throw std::invalid_argument(
          fmt::format("Learner2D::{}: point {} lies outside the bounds [{}, {}] x [{}, {}]", what,
                      describe(p), bounds[0][0], bounds[0][1], bounds[1][0], bounds[1][1]));
    }
  }

  void check_values(std::span<const double> y, const char* what) {
    if (vdim == 0) {
      if (y.empty()) {
        throw std::invalid_argument(fmt::format("Learner2D::{}: a value with no components", what));
      }
      vdim = y.size();
      combined.set_vdim(vdim);
      real.set_vdim(vdim);
    } else if (y.size() != vdim) {
      throw std::invalid_argument(fmt::format(
          "Learner2D::{}: a value with {} components, expected {}", what, y.size(), vdim));
    }
  }

  [[nodiscard]] bool bounds_done() const {
    if (corners_done) return true;  // told or failed corners stay so
    corners_done = std::all_of(corners.begin(), corners.end(), [&](const Point2& c) {
      const Known* k = known.find(c);
      return k != nullptr && k->state != State::pending;
    });
    return corners_done;
  }
  mutable bool corners_done = false;

  std::uint32_t new_id(const Point2& x) {
    reserve_growing(point_of_id);
    point_of_id.push_back(x);
    return next_id++;
  }

  /// Stores a told value: a new entry of the told data, or a replaced value.
  void add_told(Known& k, bool was_told, const Point2& x, std::span<const double> y) {
    if (was_told) {
      std::copy(y.begin(), y.end(),
                told_values.begin() + static_cast<std::ptrdiff_t>(k.told_index * vdim));
      return;
    }
    k.told_index = static_cast<std::uint32_t>(told_points.size());
    told_points.push_back(x);
    reserve_growing(told_values, y.size());
    told_values.insert(told_values.end(), y.begin(), y.end());
  }

  void record(Change change, const Point2& x, std::span<const double> y = {}) {
    reserve_growing(records);
    reserve_growing(record_values, y.size());
    records.push_back({x, static_cast<std::uint32_t>(y.size()), change});
    record_values.insert(record_values.end(), y.begin(), y.end());
  }

  void tell(const Point2& raw, std::span<const double> y) {
    const Point2 x = normalized(raw);
    check_inside(x, "tell");
    check_values(y, "tell");
    record(Change::tell, x, y);
    auto [found, inserted] = known.try_emplace(x, Known{next_id, State::told, 0});
    Known& k = *found;
    if (inserted) {
      new_id(x);
      add_told(k, false, x, y);
      combined.insert(k.id, scaled(x), y, true);
    } else {
      if (k.state == State::pending) --pending_count;
      if (k.state == State::failed) --failed_count;
      add_told(k, k.state == State::told, x, y);
      k.state = State::told;
      combined.set_value(k.id, y, true);
    }
    reserve_growing(real_queue);
    real_queue.push_back(k.id);
  }

  void tell_many(const std::vector<Point2>& xs, std::span<const double> ys) {
    if (xs.empty()) return;
    check_values(ys.subspan(0, ys.size() / xs.size()), "tell_many");
    if (ys.size() != xs.size() * vdim) {
      throw std::invalid_argument(
          fmt::format("Learner2D::tell_many: {} values for {} points of {} components", ys.size(),
                      xs.size(), vdim));
    }
    for (const auto& x : xs) check_inside(normalized(x), "tell_many");
    // The bulk path (spatially sorted insertion, one loss pass) applies to a
    // learner that knows nothing yet and points that do not repeat;
    // otherwise the points go one by one.
    std::unordered_map<Point2, std::size_t, PointHash> batch;
    for (const auto& x : xs) batch.emplace(normalized(x), 0);
    if (!known.empty() || batch.size() != xs.size()) {
      for (std::size_t i = 0; i < xs.size(); ++i) tell(xs[i], ys.subspan(i * vdim, vdim));
      return;
    }
    records.push_back({{}, static_cast<std::uint32_t>(xs.size()), Change::tell_many});
    record_values.insert(record_values.end(), ys.begin(), ys.end());
    std::vector<std::uint32_t> ids;
    std::vector<Point2> points;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const Point2 x = normalized(xs[i]);
      record_points.push_back(x);
      auto& k = *known.try_emplace(x, Known{new_id(x), State::told, 0}).first;
      add_told(k, false, x, ys.subspan(i * vdim, vdim));
      ids.push_back(k.id);
      points.push_back(scaled(x));
    }
    combined.insert_many(ids, points, ys);
    real_queue.insert(real_queue.end(), ids.begin(), ids.end());
  }

  /// `replayed`: the value the point got when it was first made pending
  /// (from a saved state). The interpolated value depends in its last bits
  /// on which of the triangles sharing an edge the search lands in, so a
  /// replay uses the recorded value instead of recomputing it.
  void tell_pending(const Point2& raw, TriangleMesh2D::Face near = {},
                    const std::vector<double>* replayed = nullptr) {
    const Point2 x = normalized(raw);
    check_inside(x, "tell_pending");
    if (known.contains(x)) return;
    const std::uint32_t id = new_id(x);
    known.try_emplace(x, Known{id, State::pending, 0});
    ++pending_count;
    const Point2 s = scaled(x);
    std::vector<double>& value = pending_value;
    value.assign(vdim, 0.0);
    if (replayed != nullptr && replayed->size() == vdim) {
      value = *replayed;
    } else if (bounds_done()) {
      // Like the original, pending values stay 0 until the corners are known.
      if (!combined.interpolate(s, near, value)) value.assign(vdim, 0.0);
    }
    record(Change::pending, x, value);
    combined.insert(id, s, value, true, near);
  }

  void fail(const Point2& raw) {
    const Point2 x = normalized(raw);
    Known* k = known.find(x);
    if (k == nullptr || k->state != State::pending) {
      throw std::invalid_argument(
          fmt::format("Learner2D::fail: point {} is not pending", describe(x)));
    }
    record(Change::fail, x);
    k->state = State::failed;
    --pending_count;
    ++failed_count;
    // A failed point stays in the triangulation as a point without a value,
    // so that it is not proposed again; its triangles count as flat.
    combined.set_value(k->id, {}, false);
    real_queue.push_back(k->id);
  }

  void remove_unfinished() {
    record(Change::remove_unfinished, {});
    std::vector<std::uint32_t> ids;
    known.erase_if([&](const Point2&, const Known& k) {
      if (k.state != State::pending) return false;
      ids.push_back(k.id);
      return true;
    });
    std::sort(ids.begin(), ids.end());  // a deterministic order
    combined.remove(ids);
    pending_count = 0;
  }

  void sync_real() const {
    for (; real_synced < real_queue.size(); ++real_synced) {
      const std::uint32_t id = real_queue[real_synced];
      const Point2& x = point_of_id[id];
      const Known& k = *known.find(x);  // told or failed points are never forgotten
      std::span<const double> value;
      if (k.state == State::told) {
        value = {told_values.data() + static_cast<std::size_t>(k.told_index) * vdim, vdim};
      }
      if (real.contains(id)) {
        real.set_value(id, value, k.state == State::told);
      } else {
        real.insert(id, scaled(x), value, k.state == State::told);
      }
    }
  }

  [[nodiscard]] Point2 choose_point(const TriangleMesh2D::Candidate& c) const {
    // python-adaptive's choose_point_in_triangle: the midpoint of the longest
    // edge for a badly shaped triangle (longest edge² / area · √3/4 > 5,
    // 1 for an equilateral triangle), otherwise the centroid.
    // In a fixed order (CGAL's order of a face's vertices depends on its
    // history), so that the same triangle gives the same point bit for bit
    // in any build: the sums below are not associative.
    auto t = combined.corners(c.face);
    std::sort(t.begin(), t.end());
    double longest = -1;
    int edge = 0;
    for (int i = 0; i < 3; ++i) {
      const auto& a = t[i];
      const auto& b = t[(i + 2) % 3];
      const double length2 = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
      if (length2 > longest) longest = length2, edge = i;
    }
    const double area = std::abs((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) -
                                 (t[2][0] - t[0][0]) * (t[1][1] - t[0][1])) /
                        2;
    const double badness = longest / area * (std::sqrt(3.0) / 4);
    Point2 p;
    if (badness > 5) {
      const auto& a = t[edge];
      const auto& b = t[(edge + 2) % 3];
      p = {(a[0] + b[0]) / 2, (a[1] + b[1]) / 2};
    } else {
      p = {(t[0][0] + t[1][0] + t[2][0]) / 3, (t[0][1] + t[1][1] + t[2][1]) / 3};
    }
    return normalized(unscaled(p));
  }

  std::optional<std::pair<Point2, double>> ask_one() {
    for (const auto& c : corners) {
      if (!known.contains(c)) {
        tell_pending(c);
        return std::pair{c, infinity};
      }
    }
    while (auto best = combined.pop_best()) {
      combined.prefetch_around(best->face);
      const Point2 p = choose_point(*best);
      if (known.contains(p)) continue;  // nothing new here; the triangle rests
      tell_pending(p, best->face);
      return std::pair{p, best->loss};
    }
    return std::nullopt;
  }

  Proposal<Point2> propose(std::size_t n, bool mark_pending) {
    return detail::propose_from_mesh<Point2>(*this, n, mark_pending);
  }

  [[nodiscard]] double real_loss() const {
    if (!bounds_done()) return infinity;
    if (pending_count == 0) return const_cast<TriangleMesh2D&>(combined).max_loss().value_or(0.0);
    sync_real();
    return real.max_loss().value_or(0.0);
  }
};

Learner2DCore::Learner2DCore(const Bounds2D& bounds, TriangleLoss loss, double aspect_ratio,
                             std::size_t vdim)
    : impl_(std::make_unique<Impl>(bounds, std::move(loss), aspect_ratio, vdim)) {}
Learner2DCore::~Learner2DCore() = default;
Learner2DCore::Learner2DCore(Learner2DCore&&) noexcept = default;
Learner2DCore& Learner2DCore::operator=(Learner2DCore&&) noexcept = default;

std::optional<std::pair<Point2, double>> Learner2DCore::ask_one() { return impl_->ask_one(); }
Proposal<Point2> Learner2DCore::propose(std::size_t n, bool mark_pending) {
  return impl_->propose(n, mark_pending);
}
void Learner2DCore::tell(const Point2& x, std::span<const double> y) { impl_->tell(x, y); }
void Learner2DCore::tell_many(const std::vector<Point2>& xs, std::span<const double> ys) {
  impl_->tell_many(xs, ys);
}
void Learner2DCore::tell_pending(const Point2& x) { impl_->tell_pending(x); }
void Learner2DCore::fail(const Point2& x) { impl_->fail(x); }
void Learner2DCore::remove_unfinished() { impl_->remove_unfinished(); }

double Learner2DCore::loss() const { return impl_->real_loss(); }
double Learner2DCore::pending_loss() const {
  if (!impl_->bounds_done()) return infinity;
  return impl_->combined.max_loss().value_or(0.0);
}
std::size_t Learner2DCore::size() const noexcept { return impl_->told_points.size(); }
std::size_t Learner2DCore::pending_size() const noexcept { return impl_->pending_count; }
std::size_t Learner2DCore::failed_size() const noexcept { return impl_->failed_count; }
std::size_t Learner2DCore::vdim() const noexcept { return impl_->vdim; }
bool Learner2DCore::bounds_are_done() const noexcept { return impl_->bounds_done(); }
const Bounds2D& Learner2DCore::bounds() const noexcept { return impl_->bounds; }
double Learner2DCore::aspect_ratio() const noexcept { return impl_->aspect_ratio; }
const std::vector<Point2>& Learner2DCore::told_points() const noexcept {
  return impl_->told_points;
}
std::span<const double> Learner2DCore::told_value(std::size_t i) const {
  if (i >= impl_->told_points.size()) {
    throw std::out_of_range(fmt::format("Learner2D::value: index {} but only {} points told", i,
                                        impl_->told_points.size()));
  }
  return {impl_->told_values.data() + i * impl_->vdim, impl_->vdim};
}
std::vector<Point2> Learner2DCore::pending_points() const {
  std::vector<std::pair<std::uint32_t, Point2>> pending;
  impl_->known.for_each([&](const Point2& p, const Known& k) {
    if (k.state == State::pending) pending.emplace_back(k.id, p);
  });
  std::sort(pending.begin(), pending.end());
  std::vector<Point2> out;
  for (const auto& [id, p] : pending) out.push_back(p);
  return out;
}

std::optional<std::vector<double>> Learner2DCore::interpolate(const Point2& x) const {
  impl_->sync_real();
  return impl_->real.interpolate(impl_->scaled(x));
}

Grid2D Learner2DCore::interpolated_on_grid(std::size_t n) const {
  if (n < 2) throw std::invalid_argument(fmt::format("Learner2D: a grid needs n >= 2, got {}", n));
  impl_->sync_real();
  Grid2D grid;
  grid.vdim = std::max<std::size_t>(impl_->vdim, 1);
  const auto& b = impl_->bounds;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / static_cast<double>(n - 1);
    grid.xs.push_back(i + 1 == n ? b[0][1] : b[0][0] + t * (b[0][1] - b[0][0]));
    grid.ys.push_back(i + 1 == n ? b[1][1] : b[1][0] + t * (b[1][1] - b[1][0]));
  }
  grid.values.assign(n * n * grid.vdim, std::nan(""));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      auto v = impl_->real.interpolate(impl_->scaled({grid.xs[i], grid.ys[j]}));
      if (v)
        std::copy(v->begin(), v->end(),
                  grid.values.begin() + static_cast<std::ptrdiff_t>((i * n + j) * grid.vdim));
    }
  }
  return grid;
}

std::vector<std::array<Point2, 3>> Learner2DCore::triangles() const {
  impl_->sync_real();
  auto out = impl_->real.triangles();
  for (auto& t : out)
    for (auto& p : t) p = impl_->unscaled(p);
  return out;
}

nlohmann::json Learner2DCore::save() const {
  const Impl& m = *impl_;
  nlohmann::json changes = nlohmann::json::array();
  std::size_t next_value = 0, next_point = 0;  // the current record's, in record_values/_points
  auto values = [&](std::size_t count) {
    nlohmann::json a = nlohmann::json::array();
    for (std::size_t i = 0; i < count; ++i)
      a.push_back(saved_number(m.record_values[next_value++]));
    return a;
  };
  for (const auto& r : m.records) {
    switch (r.change) {
      case Change::pending: changes.push_back({"pending", r.x[0], r.x[1], values(r.count)}); break;
      case Change::tell: changes.push_back({"tell", r.x[0], r.x[1], values(r.count)}); break;
      case Change::fail: changes.push_back({"fail", r.x[0], r.x[1]}); break;
      case Change::remove_unfinished: changes.push_back({"remove_unfinished"}); break;
      case Change::tell_many: {
        nlohmann::json points = nlohmann::json::array();
        for (std::size_t i = 0; i < r.count; ++i) {
          const auto& p = m.record_points[next_point++];
          points.push_back({p[0], p[1]});
        }
        // vdim is fixed before the first tell_many is recorded
        changes.push_back({"tell_many", points, values(r.count * m.vdim)});
        break;
      }
    }
  }
  return seal_state(state_kind, state_version,
                    {{"bounds", m.bounds},
                     {"aspect_ratio", m.aspect_ratio},
                     {"loss", m.loss.name},
                     {"vdim", m.vdim},
                     {"changes", std::move(changes)}});
}

void Learner2DCore::load(const nlohmann::json& state) {
  Impl& m = *impl_;
  load_state(
      state, state_kind, state_version, m.records.empty(), [&m](const nlohmann::json& saved, int) {
        const auto bounds = saved.at("bounds").get<Bounds2D>();
        const double aspect = saved.at("aspect_ratio").get<double>();
        const auto loss = saved.at("loss").get<std::string>();
        if (bounds != m.bounds || aspect != m.aspect_ratio || loss != m.loss.name) {
          throw std::invalid_argument(fmt::format(
              "saved with bounds {}, aspect ratio {}, loss {}; this learner has bounds {}, aspect "
              "ratio {}, loss {}",
              saved.at("bounds").dump(), aspect, loss, nlohmann::json(m.bounds).dump(),
              m.aspect_ratio, m.loss.name));
        }
        replay_mesh_changes(saved.at("changes"), m, [](const nlohmann::json& c) {
          return std::pair{Point2{c.at(1).get<double>(), c.at(2).get<double>()}, std::size_t{3}};
        });
      });
}

}  // namespace taskmaster::detail
