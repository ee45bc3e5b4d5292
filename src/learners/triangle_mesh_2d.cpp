#include "triangle_mesh_2d.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace taskmaster::detail {

namespace {
using Delaunay = TriangleMesh2D::Delaunay;

Delaunay::Point to_cgal(const Point2& p) { return {p[0], p[1]}; }

/// Mixes sorted vertex ids into one number (SplitMix64 steps).
std::uint64_t tie_break_key(const std::array<std::uint64_t, 3>& ids) {
  std::uint64_t h = 0;
  for (std::uint64_t id : ids) {
    h += id + 0x9E3779B97F4A7C15ULL;
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    h ^= h >> 31;
  }
  return h;
}
}  // namespace

TriangleMesh2D::TriangleMesh2D(const TriangleLoss* loss, std::size_t vdim)
    : loss_(loss),
      vdim_(vdim),
      low_(vdim, std::numeric_limits<double>::infinity()),
      high_(vdim, -std::numeric_limits<double>::infinity()),
      zeros_(2 * vdim, 0.0) {}

void TriangleMesh2D::set_vdim(std::size_t vdim) {
  vdim_ = vdim;
  slots_.assign(vertices_.size() * stride(), 0.0);
  low_.assign(vdim, std::numeric_limits<double>::infinity());
  high_.assign(vdim, -std::numeric_limits<double>::infinity());
  zeros_.assign(2 * vdim, 0.0);
  std::fill(has_value_.begin(), has_value_.end(), std::uint8_t{0});
  recompute_everything();
}

void TriangleMesh2D::grow(std::uint32_t id) {
  if (id < vertices_.size()) return;
  const std::size_t n = static_cast<std::size_t>(id) + 1;
  vertices_.resize(n);
  slots_.resize(n * stride(), 0.0);
  has_value_.resize(n, 0);
}

void TriangleMesh2D::store_value(std::uint32_t id, std::span<const double> values, bool has_value) {
  bool finite = has_value;
  for (double v : values) finite = finite && std::isfinite(v);
  has_value_[id] = finite ? 1 : 0;
  double* out = values_of(id);
  for (std::size_t c = 0; c < vdim_; ++c) {
    out[c] = finite ? values[c] : 0.0;
    if (!finite) continue;
    low_[c] = std::min(low_[c], values[c]);
    high_[c] = std::max(high_[c], values[c]);
  }
}

double TriangleMesh2D::value_scale() const {
  double scale = 0;
  for (std::size_t c = 0; c < vdim_; ++c) {
    if (low_[c] <= high_[c]) scale = std::max(scale, high_[c] - low_[c]);
  }
  return scale > 0 ? scale : 1.0;
}

bool TriangleMesh2D::value_scale_changed() {
  const double scale = value_scale();
  if (scale > loss_scale_ * 1.1 || scale * 1.1 < loss_scale_) {
    loss_scale_ = scale;
    return true;
  }
  return false;
}

bool TriangleMesh2D::insert(std::uint32_t id, const Point2& p, std::span<const double> values,
                            bool has_value, Face near) {
  grow(id);
  const int dimension_before = triangulation_.dimension();
  const std::size_t count_before = triangulation_.number_of_vertices();
  if (near == Face() && last_inserted_ != Vertex()) near = last_inserted_->face();
  const Vertex v = triangulation_.insert(to_cgal(p), near);
  if (triangulation_.number_of_vertices() == count_before) return false;  // a duplicate
  v->info() = id;
  vertices_[id] = v;
  last_inserted_ = v;
  store_value(id, values, has_value);
  if (value_scale_changed() || dimension_before < 2) {
    if (triangulation_.dimension() == 2) recompute_everything();
  } else {
    // Every triangle the insertion created or changed is incident to v.
    dirty_.push_back(v);
    flush_if_long();
  }
  return true;
}

void TriangleMesh2D::insert_many(const std::vector<std::uint32_t>& ids,
                                 const std::vector<Point2>& points,
                                 std::span<const double> values) {
  std::vector<std::pair<Delaunay::Point, std::uint32_t>> items;
  items.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    grow(ids[i]);
    items.emplace_back(to_cgal(points[i]), ids[i]);
  }
  triangulation_.insert(items.begin(), items.end());
  for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
       ++v) {
    vertices_[v->info()] = v;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (vertices_[ids[i]] == Vertex()) continue;
    store_value(ids[i], values.subspan(i * vdim_, vdim_), true);
    last_inserted_ = vertices_[ids[i]];
  }
  value_scale_changed();
  recompute_everything();
}

void TriangleMesh2D::set_value(std::uint32_t id, std::span<const double> values, bool has_value) {
  if (!contains(id)) return;
  store_value(id, values, has_value);
  if (triangulation_.dimension() < 2) return;
  if (value_scale_changed()) {
    recompute_everything();
  } else {
    dirty_.push_back(vertices_[id]);
    flush_if_long();
  }
}

void TriangleMesh2D::remove(const std::vector<std::uint32_t>& ids) {
  flush();  // the dirty list holds vertex handles that removal may invalidate
  for (std::uint32_t id : ids) {
    if (!contains(id)) continue;
    const Vertex v = vertices_[id];
    // The triangles around v disappear: their queue entries become invalid.
    std::vector<Vertex> ring;
    if (triangulation_.dimension() == 2) {
      auto f = triangulation_.incident_faces(v), end = f;
      do {
        f->info().stamp = 0;
      } while (++f != end);
      auto w = triangulation_.incident_vertices(v), wend = w;
      do {
        if (!triangulation_.is_infinite(w)) ring.push_back(w);
      } while (++w != wend);
    }
    if (last_located_ == v) last_located_ = Vertex();
    triangulation_.remove(v);
    vertices_[id] = Vertex();
    has_value_[id] = 0;
    last_inserted_ = ring.empty() ? Vertex() : ring.front();
    if (triangulation_.dimension() == 2) refresh_vertices(ring);
  }
  if (triangulation_.number_of_vertices() > 0 && last_inserted_ == Vertex()) {
    last_inserted_ = triangulation_.finite_vertices_begin();
  }
  // Removed triangles may still sit in the queue: rebuild it from the live ones.
  rebuild_queue();
}

// Losses wait for the next look at the queue, but not for long: after many
// insertions without one, queue entries of triangles the insertions reshaped
// were seen to survive the flush (a Learner2D told 1000 points without asking
// kept a stale loss), so the backlog is bounded.
void TriangleMesh2D::flush_if_long() {
  if (dirty_.size() >= 32) flush();
}

void TriangleMesh2D::flush() {
  if (dirty_.empty()) return;
  if (triangulation_.dimension() < 2) {
    dirty_.clear();
    return;
  }
  vertex_visit_.resize(vertices_.size(), 0);
  ++visit_;
  scratch_vertices_.clear();
  auto add = [&](Vertex w) {
    std::uint64_t& mark = vertex_visit_[w->info()];
    if (mark == visit_) return;
    mark = visit_;
    scratch_vertices_.push_back(w);
  };
  for (Vertex v : dirty_) {
    add(v);
    auto w = triangulation_.incident_vertices(v), end = w;
    do {
      if (!triangulation_.is_infinite(w)) add(w);
    } while (++w != end);
  }
  dirty_.clear();
  refresh_vertices(scratch_vertices_);
}

void TriangleMesh2D::refresh_vertices(const std::vector<Vertex>& vertices) {
  if (loss_->uses_gradients) {
    for (Vertex v : vertices) estimate_gradient(v);
  }
  ++visit_;
  for (Vertex v : vertices) {
    auto f = triangulation_.incident_faces(v), end = f;
    do {
      if (triangulation_.is_infinite(f)) continue;
      if (f->info().visit != visit_) {
        f->info().visit = visit_;
        compute_loss(f);
      }
      if (!loss_->uses_neighbors) continue;
      // A neighbour-based loss also depends on the vertices across the edges.
      for (int i = 0; i < 3; ++i) {
        const Face g = f->neighbor(i);
        if (triangulation_.is_infinite(g) || g->info().visit == visit_) continue;
        g->info().visit = visit_;
        compute_loss(g);
      }
    } while (++f != end);
  }
}

void TriangleMesh2D::recompute_everything() {
  dirty_.clear();
  if (triangulation_.dimension() < 2) return;
  loss_scale_ = value_scale();
  if (loss_->uses_gradients) {
    for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
         ++v) {
      estimate_gradient(v);
    }
  }
  queue_.clear();
  for (auto f = triangulation_.finite_faces_begin(); f != triangulation_.finite_faces_end(); ++f) {
    compute_loss(f);
  }
}

void TriangleMesh2D::rebuild_queue() {
  flush();
  queue_.clear();
  if (triangulation_.dimension() < 2) return;
  for (auto f = triangulation_.finite_faces_begin(); f != triangulation_.finite_faces_end(); ++f) {
    if (f->info().stamp == 0)
      compute_loss(f);  // a new triangle
    else
      queue_.push_back({f->info().loss, f->info().key, f->info().stamp, f});
  }
  std::make_heap(queue_.begin(), queue_.end(), Lower{});
}

void TriangleMesh2D::estimate_gradient(Vertex v) {
  // Least-squares plane through the neighbours, each difference weighted by
  // 1/distance² (so every direction counts as a directional derivative).
  // python-adaptive uses scipy's Clough-Tocher global estimate; this local
  // fit needs only the neighbours, which keeps updates local.
  const std::uint32_t id = v->info();
  double* g = gradients_of(id);
  std::fill(g, g + 2 * vdim_, 0.0);
  if (!has_value_[id]) return;
  const auto& p = v->point();
  const double* value = values_of(id);
  double axx = 0, axy = 0, ayy = 0;
  auto w = triangulation_.incident_vertices(v), end = w;
  do {
    if (triangulation_.is_infinite(w) || !has_value_[w->info()]) continue;
    const auto& q = w->point();
    const double dx = q.x() - p.x(), dy = q.y() - p.y();
    const double weight = 1.0 / (dx * dx + dy * dy);
    axx += weight * dx * dx, axy += weight * dx * dy, ayy += weight * dy * dy;
    const double* other = values_of(w->info());
    for (std::size_t c = 0; c < vdim_; ++c) {
      const double dv = weight * (other[c] - value[c]);
      g[2 * c] += dv * dx;
      g[2 * c + 1] += dv * dy;
    }
  } while (++w != end);
  const double det = axx * ayy - axy * axy;
  // The weighted matrix has trace = number of neighbours; a determinant this
  // small means the neighbours are (nearly) collinear: no gradient.
  if (!(det > 1e-12 * (axx + ayy) * (axx + ayy))) {
    std::fill(g, g + 2 * vdim_, 0.0);
    return;
  }
  for (std::size_t c = 0; c < vdim_; ++c) {
    const double bx = g[2 * c], by = g[2 * c + 1];
    g[2 * c] = (ayy * bx - axy * by) / det;
    g[2 * c + 1] = (axx * by - axy * bx) / det;
  }
}

std::array<TriangleMesh2D::Vertex, 3> TriangleMesh2D::ordered(Face f) {
  // Flips and removals rotate a triangle's vertices; ordering them by id
  // makes every computation on a triangle independent of that rotation, so
  // that equal triangles give bit-identical losses and points.
  std::array<Vertex, 3> v{f->vertex(0), f->vertex(1), f->vertex(2)};
  std::sort(v.begin(), v.end(), [](Vertex a, Vertex b) { return a->info() < b->info(); });
  return v;
}

void TriangleMesh2D::compute_loss(Face f) {
  TriangleSample sample;
  sample.vdim = vdim_;
  sample.value_scale = loss_scale_;
  bool flat = false;
  const auto v = ordered(f);
  for (int i = 0; i < 3; ++i) {
    const std::uint32_t id = v[i]->info();
    const auto& p = v[i]->point();
    sample.points[i] = {p.x(), p.y()};
    flat = flat || !has_value_[id];
  }
  const std::span<const double> zeros(zeros_);
  for (int i = 0; i < 3; ++i) {
    const std::size_t id = v[i]->info();
    if (flat) {
      sample.values[i] = zeros.first(vdim_);
      sample.gradients[i] = zeros;
    } else {
      sample.values[i] = {values_of(static_cast<std::uint32_t>(id)), vdim_};
      sample.gradients[i] = {values_of(static_cast<std::uint32_t>(id)) + vdim_, 2 * vdim_};
    }
  }
  std::size_t neighbors = 0;
  if (loss_->uses_neighbors) {
    neighbor_values_.resize(3 * vdim_);
    for (int k = 0; k < 3; ++k) {
      const int i = f->index(v[k]);  // the edge across from v[k]
      const Face g = f->neighbor(i);
      if (triangulation_.is_infinite(g)) continue;
      const std::uint32_t id = triangulation_.mirror_vertex(f, i)->info();
      if (!has_value_[id] && !flat) continue;
      const auto& q = triangulation_.mirror_vertex(f, i)->point();
      neighbor_points_[neighbors] = {q.x(), q.y()};
      for (std::size_t c = 0; c < vdim_; ++c) {
        neighbor_values_[neighbors * vdim_ + c] = flat ? 0.0 : values_of(id)[c];
      }
      ++neighbors;
    }
    sample.neighbor_points = std::span<const Point2>(neighbor_points_).first(neighbors);
    sample.neighbor_values = std::span<const double>(neighbor_values_).first(neighbors * vdim_);
  }
  double loss = loss_->function(sample);
  if (std::isnan(loss)) loss = 0;
  const std::array<std::uint64_t, 3> ids{v[0]->info(), v[1]->info(), v[2]->info()};
  f->info().loss = loss;
  f->info().key = tie_break_key(ids);
  f->info().stamp = ++stamp_;
  queue_.push_back({loss, f->info().key, stamp_, f});
  std::push_heap(queue_.begin(), queue_.end(), Lower{});
  // Superseded entries pile up; drop them when they outnumber the live ones.
  // (The data structure's face count is O(1); the triangulation's walks the hull.)
  if (queue_.size() > 2 * triangulation_.tds().number_of_faces() + 64) rebuild_queue();
}

std::optional<TriangleMesh2D::Candidate> TriangleMesh2D::pop_best() {
  flush();
  while (!queue_.empty()) {
    std::pop_heap(queue_.begin(), queue_.end(), Lower{});
    const Entry e = queue_.back();
    queue_.pop_back();
    if (e.face->info().stamp == e.stamp) return Candidate{e.face, e.loss, e.stamp};
  }
  return std::nullopt;
}

void TriangleMesh2D::push_back(const Candidate& c) {
  if (c.face->info().stamp != c.stamp) return;
  queue_.push_back({c.loss, c.face->info().key, c.stamp, c.face});
  std::push_heap(queue_.begin(), queue_.end(), Lower{});
}

std::optional<double> TriangleMesh2D::max_loss() {
  flush();
  while (!queue_.empty() && queue_.front().face->info().stamp != queue_.front().stamp) {
    std::pop_heap(queue_.begin(), queue_.end(), Lower{});
    queue_.pop_back();
  }
  if (queue_.empty()) return std::nullopt;
  return queue_.front().loss;
}

std::array<Point2, 3> TriangleMesh2D::corners(Face f) const {
  std::array<Point2, 3> out;
  const auto v = ordered(f);
  for (int i = 0; i < 3; ++i) out[i] = {v[i]->point().x(), v[i]->point().y()};
  return out;
}

std::optional<std::vector<double>> TriangleMesh2D::interpolate(const Point2& p, Face near) const {
  if (triangulation_.dimension() < 2) return std::nullopt;
  Delaunay::Locate_type type;
  int index = 0;
  if (near == Face()) {
    const Vertex start = last_located_ != Vertex() ? last_located_ : last_inserted_;
    if (start != Vertex()) near = start->face();
  }
  const Face f = triangulation_.locate(to_cgal(p), type, index, near);
  if (type == Delaunay::OUTSIDE_CONVEX_HULL || type == Delaunay::OUTSIDE_AFFINE_HULL) {
    return std::nullopt;
  }
  last_located_ = f->vertex(0);
  std::vector<double> out(vdim_, 0.0);
  if (type == Delaunay::VERTEX) {
    const std::uint32_t id = f->vertex(index)->info();
    if (!has_value_[id]) return std::nullopt;
    std::copy_n(values_of(id), vdim_, out.begin());
    return out;
  }
  const auto c = corners(f);
  const auto v = ordered(f);  // the order corners() uses
  const double det =
      (c[1][0] - c[0][0]) * (c[2][1] - c[0][1]) - (c[2][0] - c[0][0]) * (c[1][1] - c[0][1]);
  std::array<double, 3> weight{};
  weight[1] =
      ((p[0] - c[0][0]) * (c[2][1] - c[0][1]) - (c[2][0] - c[0][0]) * (p[1] - c[0][1])) / det;
  weight[2] =
      ((c[1][0] - c[0][0]) * (p[1] - c[0][1]) - (p[0] - c[0][0]) * (c[1][1] - c[0][1])) / det;
  weight[0] = 1 - weight[1] - weight[2];
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    const std::uint32_t id = v[i]->info();
    if (!has_value_[id]) continue;
    total += weight[i];
    for (std::size_t k = 0; k < vdim_; ++k) out[k] += weight[i] * values_of(id)[k];
  }
  // Vertices without a value drop out; the others' weights are renormalised.
  if (!(std::abs(total) > 1e-12)) return std::nullopt;
  for (double& v : out) v /= total;
  return out;
}

std::vector<std::array<Point2, 3>> TriangleMesh2D::triangles() const {
  std::vector<std::array<Point2, 3>> out;
  if (triangulation_.dimension() < 2) return out;
  for (auto f = triangulation_.finite_faces_begin(); f != triangulation_.finite_faces_end(); ++f) {
    out.push_back(corners(f));
  }
  return out;
}

}  // namespace taskmaster::detail
