#include "triangle_mesh_2d.hpp"

#include <CGAL/Spatial_sort_traits_adapter_2.h>
#include <CGAL/hilbert_sort.h>
#include <CGAL/property_map.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

namespace taskmaster::detail {

namespace {
using Delaunay = TriangleMesh2D::Delaunay;

Delaunay::Point to_cgal(const Point2& p) { return {p[0], p[1]}; }

}  // namespace

TriangleMesh2D::TriangleMesh2D(const TriangleLoss* loss, std::size_t vdim)
    : loss_(loss), vdim_(vdim), zeros_(2 * vdim, 0.0) {}

void TriangleMesh2D::set_vdim(std::size_t vdim) {
  vdim_ = vdim;
  slots_.assign(vdim_ == 1 ? 0 : std::size_t{slot_count_} * stride(), 0.0);
  range_.reset(vdim);
  zeros_.assign(2 * vdim, 0.0);
  for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
       ++v) {
    v->info().has_value = 0;
    v->info().single = {};
  }
  recompute_everything();
}

void TriangleMesh2D::grow(std::uint32_t id) {
  if (id < vertices_.size()) return;
  reserve_growing(vertices_, id + 1 - vertices_.size());
  vertices_.resize(static_cast<std::size_t>(id) + 1);
}

std::uint32_t TriangleMesh2D::new_slot() {
  const std::uint32_t slot = slot_count_++;
  if (vdim_ != 1) slots_.resize(std::size_t{slot_count_} * stride(), 0.0);
  return slot;
}

void TriangleMesh2D::store_value(Vertex vertex, std::span<const double> values, bool has_value) {
  bool finite = has_value;
  for (double v : values) finite = finite && std::isfinite(v);
  vertex->info().has_value = finite ? 1 : 0;
  double* out = values_of(vertex);
  for (std::size_t c = 0; c < vdim_; ++c) out[c] = finite ? values[c] : 0.0;
  if (finite) range_.include(values.first(vdim_));
}

bool TriangleMesh2D::insert(std::uint32_t id, const Point2& p, std::span<const double> values,
                            bool has_value, Face near) {
  grow(id);
  const int dimension_before = triangulation_.dimension();
  const std::size_t count_before = triangulation_.number_of_vertices();
  if (near == Face() && last_inserted_ != Vertex()) near = last_inserted_->face();
  const Vertex v = triangulation_.insert(to_cgal(p), near);
  if (triangulation_.number_of_vertices() == count_before) return false;  // a duplicate
  v->info() = {id, new_slot()};
  vertices_[id] = v;
  last_inserted_ = v;
  store_value(v, values, has_value);
  if (range_.rescaled() || dimension_before < 2) {
    if (triangulation_.dimension() == 2) recompute_everything();
  } else {
    // Every triangle the insertion created or changed is incident to v.
    dirty_.push_back(v);
  }
  reorder_if_grown();
  return true;
}

void TriangleMesh2D::insert_many(const std::vector<std::uint32_t>& ids,
                                 const std::vector<Point2>& points,
                                 std::span<const double> values) {
  std::vector<std::pair<Delaunay::Point, VertexSlot>> items;
  items.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    grow(ids[i]);
    items.emplace_back(to_cgal(points[i]), VertexSlot{ids[i], new_slot()});
  }
  triangulation_.insert(items.begin(), items.end());
  for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
       ++v) {
    vertices_[v->info().id] = v;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (vertices_[ids[i]] == Vertex()) continue;
    store_value(vertices_[ids[i]], values.subspan(i * vdim_, vdim_), true);
    last_inserted_ = vertices_[ids[i]];
  }
  range_.rescaled();
  recompute_everything();
  reorder_if_grown();
}

void TriangleMesh2D::set_value(std::uint32_t id, std::span<const double> values, bool has_value) {
  if (!contains(id)) return;
  store_value(vertices_[id], values, has_value);
  if (triangulation_.dimension() < 2) return;
  if (range_.rescaled()) {
    recompute_everything();
  } else {
    dirty_.push_back(vertices_[id]);
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
    last_inserted_ = ring.empty() ? Vertex() : ring.front();
    if (triangulation_.dimension() == 2) refresh_vertices(ring);
  }
  if (triangulation_.number_of_vertices() > 0 && last_inserted_ == Vertex()) {
    last_inserted_ = triangulation_.finite_vertices_begin();
  }
  // Removed triangles may still sit in the queue: rebuild it from the live ones.
  rebuild_queue();
}

void TriangleMesh2D::flush() {
  if (dirty_.empty()) return;
  if (triangulation_.dimension() < 2) {
    dirty_.clear();
    return;
  }
  if (++vertex_mark_ == 0) {  // wrapped around: old marks could match again
    for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
         ++v) {
      v->info().mark = 0;
    }
    vertex_mark_ = 1;
  }
  scratch_vertices_.clear();
  auto add = [&](Vertex w) {
    std::uint32_t& mark = w->info().mark;
    if (mark == vertex_mark_) return;
    mark = vertex_mark_;
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
  // A triangle whose stamp is newer than this is already done.
  const std::uint64_t start = stamp_;
  for (Vertex v : vertices) {
    auto f = triangulation_.incident_faces(v), end = f;
    do {
      if (triangulation_.is_infinite(f)) {
        // It may have been a live triangle, reshaped by an insertion on the
        // hull: its queue entry must no longer count.
        f->info().stamp = 0;
        continue;
      }
      if (f->info().stamp <= start) compute_loss(f);
      if (!loss_->uses_neighbors) continue;
      // A neighbour-based loss also depends on the vertices across the edges.
      for (int i = 0; i < 3; ++i) {
        const Face g = f->neighbor(i);
        if (triangulation_.is_infinite(g) || g->info().stamp > start) continue;
        compute_loss(g);
      }
    } while (++f != end);
  }
}

void TriangleMesh2D::recompute_everything() {
  dirty_.clear();
  if (triangulation_.dimension() < 2) return;
  range_.adopt();
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
      queue_.push_unordered({f->info().loss, f->info().key, f->info().stamp, f});
  }
  queue_.restore();
}

void TriangleMesh2D::reorder_if_grown() {
  const std::size_t n = triangulation_.number_of_vertices();
  if (n < next_reorder_) return;
  // Doubling keeps at least half of the mesh in order; reordering more often
  // was measured to cost more than it saves.
  next_reorder_ = 2 * n;
  if (triangulation_.dimension() == 2) reorder_memory();
}

void TriangleMesh2D::reorder_memory() {
  flush();  // the dirty list holds handles into the old storage
  using Tds = TriangleMesh2D::Tds;
  Tds& old = triangulation_.tds();

  // Vertices in Hilbert order of their points; their slots follow.
  using Keyed = std::pair<Delaunay::Point, Vertex>;
  std::vector<Keyed> order;
  order.reserve(triangulation_.number_of_vertices());
  for (auto v = triangulation_.finite_vertices_begin(); v != triangulation_.finite_vertices_end();
       ++v) {
    order.emplace_back(v->point(), v);
  }
  using Traits =
      CGAL::Spatial_sort_traits_adapter_2<Kernel, CGAL::First_of_pair_property_map<Keyed>>;
  CGAL::hilbert_sort(order.begin(), order.end(), Traits());

  // Triangles in the order in which the sorted vertices first touch them, so
  // that a vertex's triangles lie next to it. Until the copy, a placed face
  // has the top bit of its stamp set and its new position in place of its
  // key (the keys wait in `keys`).
  constexpr std::uint64_t placed_bit = std::uint64_t{1} << 63;
  std::vector<Face> old_faces;
  std::vector<std::uint64_t> keys;
  old_faces.reserve(old.number_of_faces());
  keys.reserve(old.number_of_faces());
  auto place = [&](Face f) {
    if ((f->info().stamp & placed_bit) != 0) return;
    f->info().stamp |= placed_bit;
    keys.push_back(f->info().key);
    f->info().key = old_faces.size();
    old_faces.push_back(f);
  };
  const Vertex infinite = triangulation_.infinite_vertex();
  for (const auto& [point, v] : order) {
    auto f = triangulation_.incident_faces(v), end = f;
    do place(f);
    while (++f != end);
  }
  {
    auto f = triangulation_.incident_faces(infinite), end = f;
    do place(f);
    while (++f != end);
  }

  Tds fresh;
  fresh.set_dimension(2);
  fresh.vertices().reserve(order.size() + 1);
  fresh.faces().reserve(old_faces.size());
  std::vector<Vertex> new_of_slot(slot_count_);
  const Vertex new_infinite = fresh.create_vertex(*infinite);
  auto map_vertex = [&](Vertex v) {
    return v == infinite ? new_infinite : new_of_slot[v->info().slot];
  };
  std::vector<double> new_slots(vdim_ == 1 ? 0 : order.size() * stride());
  for (std::uint32_t k = 0; k < order.size(); ++k) {
    const Vertex v = order[k].second;
    const Vertex w = fresh.create_vertex(*v);
    new_of_slot[v->info().slot] = w;
    w->info().slot = k;
    if (vdim_ != 1) {
      std::copy_n(values_of(v), stride(), new_slots.begin() + std::size_t{k} * stride());
    }
  }
  std::vector<Face> new_faces;
  new_faces.reserve(old_faces.size());
  for (const Face f : old_faces) {
    const Face g = fresh.create_face(map_vertex(f->vertex(0)), map_vertex(f->vertex(1)),
                                     map_vertex(f->vertex(2)));
    g->info() = {f->info().loss, keys[new_faces.size()], f->info().stamp & ~placed_bit};
    new_faces.push_back(g);
  }
  for (std::size_t k = 0; k < old_faces.size(); ++k) {
    const Face f = old_faces[k];
    new_faces[k]->set_neighbors(new_faces[f->neighbor(0)->info().key],
                                new_faces[f->neighbor(1)->info().key],
                                new_faces[f->neighbor(2)->info().key]);
  }
  new_infinite->set_face(new_faces[infinite->face()->info().key]);
  for (const auto& [point, v] : order) {
    map_vertex(v)->set_face(new_faces[v->face()->info().key]);
  }

  // Handles kept elsewhere move to the new storage.
  for (Vertex& v : vertices_) {
    if (v != Vertex()) v = map_vertex(v);
  }
  if (last_inserted_ != Vertex()) last_inserted_ = map_vertex(last_inserted_);
  if (last_located_ != Vertex()) last_located_ = map_vertex(last_located_);
  old.swap(fresh);  // `fresh` now holds the old storage and frees it
  triangulation_.set_infinite_vertex(new_infinite);
  slots_ = std::move(new_slots);
  slot_count_ = static_cast<std::uint32_t>(order.size());
  rebuild_queue();
}

void TriangleMesh2D::estimate_gradient(Vertex v) {
  // Least-squares plane through the neighbours, each difference weighted by
  // 1/distance² (so every direction counts as a directional derivative).
  // python-adaptive uses scipy's Clough-Tocher global estimate; this local
  // fit needs only the neighbours, which keeps updates local.
  double* g = gradients_of(v);
  std::fill(g, g + 2 * vdim_, 0.0);
  if (!v->info().has_value) return;
  const auto& p = v->point();
  const double* value = values_of(v);
  double axx = 0, axy = 0, ayy = 0;
  auto w = triangulation_.incident_vertices(v), end = w;
  do {
    if (triangulation_.is_infinite(w) || !w->info().has_value) continue;
    const auto& q = w->point();
    const double dx = q.x() - p.x(), dy = q.y() - p.y();
    const double weight = 1.0 / (dx * dx + dy * dy);
    axx += weight * dx * dx, axy += weight * dx * dy, ayy += weight * dy * dy;
    const double* other = values_of(w);
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
  std::sort(v.begin(), v.end(), [](Vertex a, Vertex b) { return a->info().id < b->info().id; });
  return v;
}

void TriangleMesh2D::compute_loss(Face f) {
  TriangleSample sample;
  sample.vdim = vdim_;
  sample.value_scale = range_.loss_scale();
  bool flat = false;
  const auto v = ordered(f);
  for (int i = 0; i < 3; ++i) {
    const auto& p = v[i]->point();
    sample.points[i] = {p.x(), p.y()};
    flat = flat || !v[i]->info().has_value;
  }
  const std::span<const double> zeros(zeros_);
  for (int i = 0; i < 3; ++i) {
    if (flat) {
      sample.values[i] = zeros.first(vdim_);
      sample.gradients[i] = zeros;
    } else {
      sample.values[i] = {values_of(v[i]), vdim_};
      sample.gradients[i] = {values_of(v[i]) + vdim_, 2 * vdim_};
    }
  }
  std::size_t neighbors = 0;
  if (loss_->uses_neighbors) {
    neighbor_values_.resize(3 * vdim_);
    for (int k = 0; k < 3; ++k) {
      const int i = f->index(v[k]);  // the edge across from v[k]
      const Face g = f->neighbor(i);
      if (triangulation_.is_infinite(g)) continue;
      const Vertex across = triangulation_.mirror_vertex(f, i);
      if (!across->info().has_value && !flat) continue;
      const auto& q = across->point();
      neighbor_points_[neighbors] = {q.x(), q.y()};
      for (std::size_t c = 0; c < vdim_; ++c) {
        neighbor_values_[neighbors * vdim_ + c] = flat ? 0.0 : values_of(across)[c];
      }
      ++neighbors;
    }
    sample.neighbor_points = std::span<const Point2>(neighbor_points_).first(neighbors);
    sample.neighbor_values = std::span<const double>(neighbor_values_).first(neighbors * vdim_);
  }
  double loss = loss_->function(sample);
  if (std::isnan(loss)) loss = 0;
  const std::array<std::uint64_t, 3> ids{v[0]->info().id, v[1]->info().id, v[2]->info().id};
  f->info().loss = loss;
  f->info().key = simplex_key(ids);
  f->info().stamp = ++stamp_;
  queue_.push({loss, f->info().key, stamp_, f});
  // Superseded entries pile up; drop them when they outnumber the live ones.
  // (The data structure's face count is O(1); the triangulation's walks the hull.)
  if (queue_.size() > 2 * triangulation_.tds().number_of_faces() + 64) rebuild_queue();
}

std::optional<TriangleMesh2D::Candidate> TriangleMesh2D::pop_best() {
  flush();
  const auto e = queue_.pop_live();
  if (!e) return std::nullopt;
  return Candidate{e->simplex, e->loss, e->stamp};
}

void TriangleMesh2D::push_back(const Candidate& c) {
  if (c.face->info().stamp != c.stamp) return;
  queue_.push({c.loss, c.face->info().key, c.stamp, c.face});
}

std::optional<double> TriangleMesh2D::max_loss() {
  flush();
  return queue_.max_live_loss();
}

namespace {
/// Both cache lines an element of up to 64 bytes may straddle.
template <class T>
void prefetch_object(const T& object) {
  static_assert(sizeof(T) <= 128);
  const char* p = reinterpret_cast<const char*>(&object);
  __builtin_prefetch(p);
  __builtin_prefetch(p + sizeof(T) - 1);
}
}  // namespace

void TriangleMesh2D::prefetch_around(Face f) const {
  if (triangulation_.dimension() < 2) return;
  // Breadth first over the triangles' adjacency, so that the loads of one
  // ring are in flight together; each ring's triangles are read (waiting
  // for the ring's loads once) only to find the next ring.
  // Four rings cover the triangles around the corners of f and their
  // neighbours, which is what the insertion and the update after it read
  // (one ring more costs more than it saves, one ring less saves less).
  static constexpr std::size_t depth = 4;  // at most 1 + 3 + 6 + 12 + 24 triangles
  std::array<Face, 64> faces;
  std::array<Face, 64> parents;
  std::size_t begin = 0, end = 1;
  faces[0] = f;
  parents[0] = Face();
  for (std::size_t level = 0; level < depth; ++level) {
    const std::size_t next_end_limit = faces.size();
    std::size_t next_end = end;
    for (std::size_t k = begin; k < end; ++k) {
      const Face g = faces[k];
      for (int i = 0; i < 3; ++i) {
        prefetch_object(*g->vertex(i));
        const Face h = g->neighbor(i);
        if (h == parents[k] || next_end == next_end_limit) continue;
        prefetch_object(*h);
        faces[next_end] = h;
        parents[next_end] = g;
        ++next_end;
      }
    }
    begin = end;
    end = next_end;
  }
}

std::array<Point2, 3> TriangleMesh2D::corners(Face f) const {
  std::array<Point2, 3> out;
  const auto v = ordered(f);
  for (int i = 0; i < 3; ++i) out[i] = {v[i]->point().x(), v[i]->point().y()};
  return out;
}

std::optional<std::vector<double>> TriangleMesh2D::interpolate(const Point2& p, Face near) const {
  std::vector<double> out;
  if (!interpolate(p, near, out)) return std::nullopt;
  return out;
}

bool TriangleMesh2D::interpolate(const Point2& p, Face near, std::vector<double>& out) const {
  if (triangulation_.dimension() < 2) return false;
  Delaunay::Locate_type type;
  int index = 0;
  if (near == Face()) {
    const Vertex start = last_located_ != Vertex() ? last_located_ : last_inserted_;
    if (start != Vertex()) near = start->face();
  }
  const Face f = triangulation_.locate(to_cgal(p), type, index, near);
  if (type == Delaunay::OUTSIDE_CONVEX_HULL || type == Delaunay::OUTSIDE_AFFINE_HULL) {
    return false;
  }
  last_located_ = f->vertex(0);
  out.assign(vdim_, 0.0);
  if (type == Delaunay::VERTEX) {
    const Vertex v = f->vertex(index);
    if (!v->info().has_value) return false;
    std::copy_n(values_of(v), vdim_, out.begin());
    return true;
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
    if (!v[i]->info().has_value) continue;
    total += weight[i];
    for (std::size_t k = 0; k < vdim_; ++k) out[k] += weight[i] * values_of(v[i])[k];
  }
  // Vertices without a value drop out; the others' weights are renormalised.
  if (!(std::abs(total) > 1e-12)) return false;
  for (double& v : out) v /= total;
  return true;
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
