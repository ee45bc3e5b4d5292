// LearnerND's triangulation (CGAL's d-dimensional Delaunay triangulation with
// exact predicates) and bookkeeping.

// GCC 12 reports out-of-bounds reads in CGAL's fixed-dimension kernel
// (Construct_flat_orientation's Eigen matrix, used only for point sets of
// lower dimension) that the matrix sizes rule out: -Warray-bounds is a
// false positive there. The state applies to the code of these headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#include <CGAL/Delaunay_triangulation.h>
#include <CGAL/Epick_d.h>
#include <CGAL/Triangulation_data_structure.h>
#include <CGAL/Triangulation_full_cell.h>
#include <CGAL/Triangulation_vertex.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/ranges.h>

#include "mesh_changes.hpp"
#include "mesh_proposal.hpp"
#include "simplex_losses.hpp"
#include "taskmaster/learners/large_pages.hpp"
#include "taskmaster/learners/learner_nd.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster::detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// The learner takes at most this many dimensions, so that the small matrices
// and corner lists of one simplex live on the stack: in a fresh process every
// heap allocation per point costs time in malloc and, through the fresh memory
// it touches, page faults.
constexpr std::size_t max_dim = 16;
/// The (dim + 1) x dim coordinates of one simplex.
using SimplexCorners = std::array<double, (max_dim + 1) * max_dim>;
/// A simplex's vertex indices in the order of their ids (the first dim + 1 used).
using VertexOrder = std::array<int, max_dim + 1>;

struct CellInfo {
  double loss = 0;
  std::uint64_t key = 0;    // from the vertex ids: breaks ties between equal losses
  std::uint64_t stamp = 0;  // of the queue entry carrying `loss`; 0: none
  std::uint64_t visit = 0;
  std::uint64_t around = 0;  // gathering the cells around a vertex: seen in pass `around`
};

/// A size known at run time (std::size_t) or at compile time (in 2 and 3
/// dimensions): with the latter the compiler unrolls the loops of the same
/// source, so the operations, their order and every bit of the results are
/// the same.
template <std::size_t N>
using FixedSize = std::integral_constant<std::size_t, N>;

/// Solves a * x = b (n x n, row-major) by Gaussian elimination with partial
/// pivoting; false if a is singular.
template <class Size>
bool solve(double* a, double* b, Size n) {
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[pivot * n + c])) pivot = r;
    if (a[pivot * n + c] == 0) return false;
    if (pivot != c) {
      for (std::size_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[pivot * n + j]);
      std::swap(b[c], b[pivot]);
    }
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      for (std::size_t j = c; j < n; ++j) a[r * n + j] -= f * a[c * n + j];
      b[r] -= f * b[c];
    }
  }
  for (std::size_t c = n; c-- > 0;) {
    for (std::size_t j = c + 1; j < n; ++j) b[c] -= a[c * n + j] * b[j];
    b[c] /= a[c * n + c];
  }
  return true;
}

/// Barycentric coordinates of p in the simplex `points` ((n + 1) rows of n),
/// into `weights` (n + 1); false if the simplex is flat.
template <class Size>
bool barycentric(std::span<const double> points, std::span<const double> p, Size n,
                 std::span<double> weights) {
  std::array<double, max_dim * max_dim> a;
  std::array<double, max_dim> b;
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t i = 0; i < n; ++i) a[r * n + i] = points[(i + 1) * n + r] - points[r];
    b[r] = p[r] - points[r];
  }
  if (!solve(a.data(), b.data(), n)) return false;
  double rest = 1;
  for (std::size_t i = 0; i < n; ++i) weights[i + 1] = b[i], rest -= b[i];
  weights[0] = rest;
  return true;
}

/// losses_nd::volume_in_embedding for sizes known at compile time:
/// bit-identical to it (the same source, unrolled).
template <std::size_t Count, std::size_t Width>
double fixed_volume_in_embedding(const std::array<double, Count * Width>& rows) {
  std::array<double, (Count - 1) * Width> e;
  std::array<double, (Count - 1) * (Count - 1)> g;
  return losses_nd::detail::gram_volume(rows.data(), FixedSize<Count>{}, FixedSize<Width>{},
                                        e.data(), g.data());
}

/// N for CGAL's Dimension_tag<N>, 0 for the dynamic dimension.
template <class Dim>
struct FixedDimension : std::integral_constant<std::size_t, 0> {};
template <int N>
struct FixedDimension<CGAL::Dimension_tag<N>> : std::integral_constant<std::size_t, N> {};

/// Sorts the first `n` of a cell's vertex `ids` ascending, moving `items`
/// (what stands for each vertex) along. An insertion sort: a cell has a few
/// ids, all distinct, so any sort gives this order.
template <class Id, class Item, std::size_t N>
void sort_by_id(std::array<Id, N>& ids, std::array<Item, N>& items, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    for (std::size_t j = i; j > 0 && ids[j] < ids[j - 1]; --j) {
      std::swap(ids[j], ids[j - 1]);
      std::swap(items[j], items[j - 1]);
    }
  }
}

/// A simplex of a mesh, without its CGAL type (null: none).
struct CellRef {
  void* cell = nullptr;
};

/// A simplex taken from a mesh's queue, with the loss it had.
struct MeshCandidate {
  CellRef cell;
  double loss;
  std::uint64_t stamp;
};

/// What the learner asks of its triangulation, whatever its dimension type.
class MeshInterface {
 public:
  virtual ~MeshInterface() = default;
  virtual void set_vdim(std::size_t vdim) = 0;
  [[nodiscard]] virtual bool contains(std::uint32_t id) const = 0;
  virtual bool insert(std::uint32_t id, std::span<const double> p, std::span<const double> values,
                      bool has_value, CellRef near) = 0;
  virtual void set_value(std::uint32_t id, std::span<const double> values, bool has_value) = 0;
  virtual void remove(const std::vector<std::uint32_t>& ids) = 0;
  virtual std::optional<MeshCandidate> pop_best() = 0;
  virtual void push_back(const MeshCandidate& c) = 0;
  virtual std::optional<double> max_loss() = 0;
  /// The (dim + 1) x dim coordinates of a finite simplex, its vertices ordered by id.
  virtual void corners(CellRef c, SimplexCorners& out) const = 0;
  /// The linear interpolation at p into `out` (vdim values); false outside
  /// the triangulation or where no vertex of the simplex has a value.
  virtual bool interpolate(std::span<const double> p, CellRef near,
                           std::vector<double>& out) const = 0;
  [[nodiscard]] virtual std::size_t simplex_count() const = 0;
};

/// A Delaunay triangulation of valued points with simplex losses in a
/// priority queue, updated where the triangulation changes. `Dim` is CGAL's
/// dimension tag: a fixed dimension keeps points and simplices in arrays
/// (no allocation per point, predicates on fixed-size matrices), the dynamic
/// one in vectors. Both run the same algorithm with exact predicates, so
/// they build the same triangulation and give bit-identical losses.
template <class Dim>
class TriangulationMesh final : public MeshInterface {
  using Kernel = CGAL::Epick_d<Dim>;
  using Tds =
      CGAL::Triangulation_data_structure<Dim, CGAL::Triangulation_vertex<Kernel, std::uint32_t>,
                                         CGAL::Triangulation_full_cell<Kernel, CellInfo>>;
  using Delaunay = CGAL::Delaunay_triangulation<Kernel, Tds>;
  using Cell = typename Delaunay::Full_cell_handle;
  using Vertex = typename Delaunay::Vertex_handle;
  struct CellStamp {
    std::uint64_t operator()(Cell c) const noexcept { return c->data().stamp; }
  };
  using Candidate = MeshCandidate;
  static constexpr std::size_t fixed_dim = FixedDimension<Dim>::value;

  static CellRef ref(Cell c) { return c == Cell() ? CellRef{} : CellRef{&*c}; }
  static Cell cell(CellRef r) {
    if (r.cell == nullptr) return Cell();
    using Container = CGAL::Compact_container<typename Tds::Full_cell>;
    return Container::s_iterator_to(*static_cast<typename Tds::Full_cell*>(r.cell));
  }

 public:
  TriangulationMesh(std::size_t dim, const SimplexLoss* loss, std::size_t vdim)
      : dim_(dim),
        loss_(loss),
        lifted_volume_(loss->function.template target<losses_nd::LiftedVolume>() != nullptr),
        vdim_(vdim),
        triangulation_(static_cast<int>(dim)) {}

  void set_vdim(std::size_t vdim) override {
    vdim_ = vdim;
    values_.assign(vertices_.size() * vdim, 0.0);
    std::fill(has_value_.begin(), has_value_.end(), std::uint8_t{0});
    range_.reset(0);
    recompute_everything();
  }

  [[nodiscard]] bool contains(std::uint32_t id) const override {
    return id < vertices_.size() && vertices_[id] != Vertex();
  }

  bool insert(std::uint32_t id, std::span<const double> p, std::span<const double> values,
              bool has_value, CellRef near_ref) override {
    grow(id);
    Cell near = cell(near_ref);
    const typename Kernel::Point_d point(p.begin(), p.end());
    const bool full = triangulation_.current_dimension() == static_cast<int>(dim_);
    if (near == Cell() && last_inserted_ != Vertex()) near = last_inserted_->full_cell();
    typename Delaunay::Locate_type type;
    typename Delaunay::Face face(triangulation_.maximal_dimension());
    typename Delaunay::Facet facet;
    const Cell located = triangulation_.locate(point, type, face, facet, near);
    if (type == Delaunay::ON_VERTEX) return false;
    Vertex v;
    if (full) {
      // The simplices in conflict disappear: invalidate their queue entries
      // before their memory can be reused. The hole is then filled from this
      // conflict zone, as CGAL's insert would do after computing it again.
      conflict_.clear();
      const auto boundary =
          triangulation_.compute_conflict_zone(point, located, std::back_inserter(conflict_));
      for (Cell c : conflict_) c->data().stamp = 0;
      v = triangulation_.insert_in_hole(point, conflict_.begin(), conflict_.end(), boundary);
    } else {
      v = triangulation_.insert(point, type, face, facet, located);
    }
    v->data() = id;
    vertices_[id] = v;
    last_inserted_ = v;
    store_value(id, values, has_value);
    if (!full || range_.rescaled()) {
      recompute_everything();
    } else {
      mark_dirty(v);  // every new simplex is incident to v
    }
    return true;
  }

  void set_value(std::uint32_t id, std::span<const double> values, bool has_value) override {
    if (!contains(id)) return;
    store_value(id, values, has_value);
    if (range_.rescaled()) {
      recompute_everything();
    } else {
      mark_dirty(vertices_[id]);
    }
  }

  void remove(const std::vector<std::uint32_t>& ids) override {
    dirty_.clear();
    for (std::uint32_t id : ids) {
      if (!contains(id)) continue;
      triangulation_.remove(vertices_[id]);
      vertices_[id] = Vertex();
      has_value_[id] = 0;
    }
    last_inserted_ = triangulation_.number_of_vertices() > 0
                         ? Vertex(triangulation_.finite_vertices_begin().base())
                         : Vertex();
    recompute_everything();  // rare: rebuilding the queue keeps no stale cell in it
  }

  std::optional<Candidate> pop_best() override {
    flush();
    const auto e = queue_.pop_live();
    if (!e) return std::nullopt;
    return Candidate{ref(e->simplex), e->loss, e->stamp};
  }
  void push_back(const Candidate& c) override {
    const Cell taken = cell(c.cell);
    if (taken->data().stamp != c.stamp) return;
    queue_.push({c.loss, taken->data().key, c.stamp, taken});
  }
  std::optional<double> max_loss() override {
    flush();
    return queue_.max_live_loss();
  }

  /// A cell's vertex indices ordered by vertex id: removals permute a
  /// cell's vertices, and every computation on a cell follows this order so
  /// that equal simplices give bit-identical losses and points.
  [[nodiscard]] VertexOrder ordered(Cell c) const {
    VertexOrder order;
    std::array<std::uint32_t, max_dim + 1> ids;  // read once
    for (std::size_t i = 0; i <= dim_; ++i) {
      order[i] = static_cast<int>(i);
      ids[i] = c->vertex(static_cast<int>(i))->data();
    }
    sort_by_id(ids, order, dim_ + 1);
    return order;
  }

  /// The (dim + 1) x dim coordinates of a finite cell, in `ordered` order.
  void corners(CellRef r, SimplexCorners& out) const override { corners(cell(r), out); }
  void corners(Cell c, SimplexCorners& out) const { corners(c, ordered(c), out); }
  void corners(Cell c, const VertexOrder& order, SimplexCorners& out) const {
    for (std::size_t k = 0; k <= dim_; ++k) {
      const auto& p = c->vertex(order[k])->point();
      for (std::size_t d = 0; d < dim_; ++d) out[k * dim_ + d] = p[static_cast<int>(d)];
    }
  }

  bool interpolate(std::span<const double> p, CellRef near_ref,
                   std::vector<double>& out) const override {
    if (triangulation_.current_dimension() != static_cast<int>(dim_)) return false;
    const typename Kernel::Point_d point(p.begin(), p.end());
    Cell near = cell(near_ref);
    if (near == Cell() && last_inserted_ != Vertex()) near = last_inserted_->full_cell();
    typename Delaunay::Locate_type type;
    typename Delaunay::Face face(triangulation_.maximal_dimension());
    typename Delaunay::Facet facet;
    const Cell c = triangulation_.locate(point, type, face, facet, near);
    if (type == Delaunay::OUTSIDE_CONVEX_HULL || type == Delaunay::OUTSIDE_AFFINE_HULL ||
        triangulation_.is_infinite(c)) {
      return false;
    }
    const auto order = ordered(c);
    SimplexCorners points;
    corners(c, order, points);
    std::array<double, max_dim + 1> weights;
    bool inside_simplex = false;
    if constexpr (fixed_dim > 0) {
      inside_simplex = barycentric(points, p, FixedSize<fixed_dim>{}, weights);
    } else {
      inside_simplex = barycentric(points, p, dim_, weights);
    }
    if (!inside_simplex) return false;
    out.assign(vdim_, 0.0);
    double total = 0;
    for (std::size_t i = 0; i <= dim_; ++i) {
      const std::uint32_t id = c->vertex(order[i])->data();
      if (!has_value_[id]) continue;  // points without a value drop out
      total += weights[i];
      for (std::size_t k = 0; k < vdim_; ++k) out[k] += weights[i] * values_[id * vdim_ + k];
    }
    if (!(std::abs(total) > 1e-12)) return false;
    for (double& v : out) v /= total;
    return true;
  }

  [[nodiscard]] std::size_t simplex_count() const override {
    if (triangulation_.current_dimension() != static_cast<int>(dim_)) return 0;
    return triangulation_.number_of_finite_full_cells();
  }

 private:
  void grow(std::uint32_t id) {
    if (id < vertices_.size()) return;
    vertices_.resize(id + 1);
    values_.resize((id + 1) * vdim_, 0.0);
    has_value_.resize(id + 1, 0);
  }

  void store_value(std::uint32_t id, std::span<const double> values, bool has_value) {
    bool finite = has_value;
    for (double v : values) finite = finite && std::isfinite(v);
    has_value_[id] = finite ? 1 : 0;
    for (std::size_t c = 0; c < vdim_; ++c) values_[id * vdim_ + c] = finite ? values[c] : 0.0;
    if (finite) range_.include(values.first(vdim_));
  }

  /// A vertex whose cells need new losses. A point made pending and then told
  /// before the next flush is marked twice in a row: once is enough (the
  /// second walk around it would find every cell visited).
  void mark_dirty(Vertex v) {
    if (dirty_.empty() || dirty_.back() != v) dirty_.push_back(v);
  }

  void flush() {
    if (dirty_.empty()) return;
    ++visit_;
    for (Vertex v : dirty_) {
      cells_around(v);
      for (Cell c : cells_) {
        visit(c);
        if (!loss_->uses_neighbors) continue;
        for (int i = 0; i <= static_cast<int>(dim_); ++i) visit(c->neighbor(i));
      }
    }
    dirty_.clear();
  }
  /// The cells incident to v, into cells_: a breadth-first walk from
  /// v's cell across the facets that contain v. (CGAL's incident_full_cells
  /// does the same with a std::deque built and freed on every call.)
  void cells_around(Vertex v) {
    cells_.clear();
    if (triangulation_.current_dimension() != static_cast<int>(dim_)) {
      triangulation_.incident_full_cells(v, std::back_inserter(cells_));
      return;
    }
    ++around_;
    const Cell start = v->full_cell();
    start->data().around = around_;
    cells_.push_back(start);
    for (std::size_t k = 0; k < cells_.size(); ++k) {
      const Cell c = cells_[k];
      for (int i = 0; i <= static_cast<int>(dim_); ++i) {
        if (c->vertex(i) == v) continue;  // the facet across from v does not contain it
        const Cell n = c->neighbor(i);
        if (n->data().around == around_) continue;
        n->data().around = around_;
        cells_.push_back(n);
      }
    }
  }
  void visit(Cell c) {
    if (triangulation_.is_infinite(c) || c->data().visit == visit_) return;
    c->data().visit = visit_;
    compute_loss(c);
  }

  void recompute_everything() {
    dirty_.clear();
    queue_.clear();
    if (triangulation_.current_dimension() != static_cast<int>(dim_)) return;
    range_.adopt();
    for (auto c = triangulation_.finite_full_cells_begin();
         c != triangulation_.finite_full_cells_end(); ++c) {
      compute_loss(c.base());
    }
  }

  void compute_loss(Cell c) {
    if constexpr (fixed_dim > 0) {
      if (lifted_volume_ && vdim_ == 1) {
        compute_lifted_volume(c);
        return;
      }
    }
    const std::size_t n = dim_ + 1;
    points_.clear();
    values_scratch_.assign(n * vdim_, 0.0);
    bool flat = false;
    const auto order = ordered(c);
    for (std::size_t i = 0; i < n; ++i) {
      const Vertex v = c->vertex(order[i]);
      for (std::size_t d = 0; d < dim_; ++d) points_.push_back(v->point()[static_cast<int>(d)]);
      flat = flat || !has_value_[v->data()];
    }
    if (!flat) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t id = c->vertex(order[i])->data();
        for (std::size_t k = 0; k < vdim_; ++k)
          values_scratch_[i * vdim_ + k] = values_[id * vdim_ + k] / range_.loss_scale();
      }
    }
    SimplexSample sample;
    sample.dim = dim_;
    sample.vdim = vdim_;
    sample.value_scale = range_.loss_scale();
    neighbor_points_.clear();
    neighbor_values_.clear();
    if (loss_->uses_neighbors) {
      for (std::size_t k = 0; k < n; ++k) {
        const int i = order[k];  // the facet across from the k-th vertex
        const Cell g = c->neighbor(i);
        if (triangulation_.is_infinite(g)) continue;
        const Vertex w = g->vertex(c->mirror_index(i));
        if (!flat && !has_value_[w->data()]) continue;
        for (std::size_t d = 0; d < dim_; ++d)
          neighbor_points_.push_back(w->point()[static_cast<int>(d)]);
        for (std::size_t k = 0; k < vdim_; ++k)
          neighbor_values_.push_back(flat ? 0.0
                                          : values_[w->data() * vdim_ + k] / range_.loss_scale());
        ++sample.neighbor_count;
      }
    }
    sample.points = points_;
    sample.values = values_scratch_;
    sample.neighbor_points = neighbor_points_;
    sample.neighbor_values = neighbor_values_;
    double loss = loss_->function(sample);
    if (std::isnan(loss)) loss = 0;
    ids_.clear();
    for (std::size_t i = 0; i < n; ++i) ids_.push_back(c->vertex(order[i])->data());
    enqueue(c, loss, simplex_key(ids_));
  }

  /// The default loss (losses_nd::LiftedVolume) of a cell of a fixed-dimension
  /// mesh with scalar values: the same rows in the same order, on fixed-size
  /// arrays, without building a sample (the bits of the loss are the same).
  void compute_lifted_volume(Cell c) {
    constexpr std::size_t n = fixed_dim + 1;  // vertices, and the lifted width
    std::array<Vertex, n> vertex;
    std::array<std::uint64_t, n> ids;
    for (std::size_t i = 0; i < n; ++i) {
      vertex[i] = c->vertex(static_cast<int>(i));
      ids[i] = vertex[i]->data();
    }
    sort_by_id(ids, vertex, n);  // the order of `ordered`
    bool flat = false;
    for (std::uint64_t id : ids) flat = flat || !has_value_[id];
    std::array<double, n * n> rows;
    for (std::size_t k = 0; k < n; ++k) {
      const auto& p = vertex[k]->point();
      for (std::size_t d = 0; d < fixed_dim; ++d) rows[k * n + d] = p[static_cast<int>(d)];
      rows[k * n + fixed_dim] = flat ? 0.0 : values_[ids[k]] / range_.loss_scale();
    }
    double loss = fixed_volume_in_embedding<n, n>(rows);
    if (std::isnan(loss)) loss = 0;
    enqueue(c, loss, simplex_key(ids));
  }

  void enqueue(Cell c, double loss, std::uint64_t key) {
    c->data().loss = loss;
    c->data().key = key;
    c->data().stamp = ++stamp_;
    queue_.push({loss, key, stamp_, c});
    if (queue_.size() > 2 * triangulation_.number_of_full_cells() + 64) rebuild_queue();
  }

  void rebuild_queue() {
    queue_.clear();
    for (auto c = triangulation_.finite_full_cells_begin();
         c != triangulation_.finite_full_cells_end(); ++c) {
      if (c->data().stamp != 0)
        queue_.push_unordered({c->data().loss, c->data().key, c->data().stamp, c.base()});
    }
    queue_.restore();
  }

  std::size_t dim_;
  const SimplexLoss* loss_;
  bool lifted_volume_;  // the loss is the default one
  std::size_t vdim_;
  Delaunay triangulation_;
  std::vector<Vertex> vertices_;
  std::vector<double> values_;
  std::vector<std::uint8_t> has_value_;
  ValueRange range_;
  LossQueue<Cell, CellStamp> queue_;
  std::uint64_t stamp_ = 0, visit_ = 0, around_ = 0;
  Vertex last_inserted_;
  std::vector<Vertex> dirty_;
  std::vector<Cell> cells_, conflict_;
  std::vector<double> points_, values_scratch_, neighbor_points_, neighbor_values_;
  std::vector<std::uint64_t> ids_;
};

/// The learner's triangulation: fixed-dimension CGAL types in 2 and 3
/// dimensions, dynamic ones above.
class SimplexMesh {
 public:
  using Candidate = MeshCandidate;

  SimplexMesh(std::size_t dim, const SimplexLoss* loss, std::size_t vdim) {
    if (dim == 2) {
      mesh_ = std::make_unique<TriangulationMesh<CGAL::Dimension_tag<2>>>(dim, loss, vdim);
    } else if (dim == 3) {
      mesh_ = std::make_unique<TriangulationMesh<CGAL::Dimension_tag<3>>>(dim, loss, vdim);
    } else {
      mesh_ = std::make_unique<TriangulationMesh<CGAL::Dynamic_dimension_tag>>(dim, loss, vdim);
    }
  }

  void set_vdim(std::size_t vdim) { mesh_->set_vdim(vdim); }
  [[nodiscard]] bool contains(std::uint32_t id) const { return mesh_->contains(id); }
  bool insert(std::uint32_t id, std::span<const double> p, std::span<const double> values,
              bool has_value, CellRef near = {}) {
    return mesh_->insert(id, p, values, has_value, near);
  }
  void set_value(std::uint32_t id, std::span<const double> values, bool has_value) {
    mesh_->set_value(id, values, has_value);
  }
  void remove(const std::vector<std::uint32_t>& ids) { mesh_->remove(ids); }
  std::optional<Candidate> pop_best() { return mesh_->pop_best(); }
  void push_back(const Candidate& c) { mesh_->push_back(c); }
  std::optional<double> max_loss() { return mesh_->max_loss(); }
  void corners(CellRef c, SimplexCorners& out) const { mesh_->corners(c, out); }
  bool interpolate(std::span<const double> p, CellRef near, std::vector<double>& out) const {
    return mesh_->interpolate(p, near, out);
  }
  [[nodiscard]] std::size_t simplex_count() const { return mesh_->simplex_count(); }

 private:
  std::unique_ptr<MeshInterface> mesh_;
};

// `forgotten`: a pending point dropped by remove_unfinished; its id is not reused.
enum class State : std::uint8_t { pending, told, failed, forgotten };
struct Known {
  std::uint32_t id;
  State state;
  std::uint32_t told_index;
};

/// The learner's points by id, their coordinates in one flat array, and a
/// hash table from exact coordinates to the id (-0.0 and 0.0 are one point;
/// NaN is never found). A map keyed by coordinate vectors cost two
/// allocations per point and a comparison of vectors per tree level.
class KnownPoints {
 public:
  explicit KnownPoints(std::size_t dim) : dim_(dim) {}

  [[nodiscard]] Known* find(std::span<const double> x) noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(x);; i = (i + 1) & mask()) {
      const std::uint32_t id = slots_[i];
      if (id == empty) return nullptr;
      if (std::equal(x.begin(), x.end(), point(id).begin())) return &known_[id];
    }
  }
  [[nodiscard]] const Known* find(std::span<const double> x) const noexcept {
    return const_cast<KnownPoints*>(this)->find(x);
  }
  [[nodiscard]] bool contains(std::span<const double> x) const noexcept {
    return find(x) != nullptr;
  }

  /// A new point (not known: check with `find` first), under the next id.
  Known& add(std::span<const double> x, State state, std::uint32_t told_index) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 64 : 2 * slots_.size());
    const auto id = static_cast<std::uint32_t>(known_.size());
    reserve_growing(coordinates_, x.size());
    reserve_growing(known_);
    coordinates_.insert(coordinates_.end(), x.begin(), x.end());
    known_.push_back({id, state, told_index});
    place(id);
    return known_.back();
  }

  [[nodiscard]] std::span<const double> point(std::uint32_t id) const noexcept {
    return {coordinates_.data() + static_cast<std::size_t>(id) * dim_, dim_};
  }
  [[nodiscard]] const Known& by_id(std::uint32_t id) const noexcept { return known_[id]; }

  /// The pending points' coordinates, in increasing order of id.
  [[nodiscard]] std::vector<std::vector<double>> pending() const {
    std::vector<std::vector<double>> out;
    for (const Known& k : known_) {
      if (k.state != State::pending) continue;
      const auto x = point(k.id);
      out.emplace_back(x.begin(), x.end());
    }
    return out;
  }

  /// Forgets the pending points; their ids, in increasing order.
  std::vector<std::uint32_t> forget_pending() {
    std::vector<std::uint32_t> ids;
    for (Known& k : known_) {
      if (k.state != State::pending) continue;
      k.state = State::forgotten;
      ids.push_back(k.id);
    }
    rehash(slots_.size());
    return ids;
  }

 private:
  static constexpr std::uint32_t empty = std::numeric_limits<std::uint32_t>::max();

  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  [[nodiscard]] std::size_t home(std::span<const double> x) const noexcept {
    std::uint64_t h = 0;
    for (double c : x) {
      const double folded = c == 0 ? 0.0 : c;  // -0.0 hashes as 0.0
      h = (h ^ std::bit_cast<std::uint64_t>(folded)) * 0x9E3779B97F4A7C15ULL;
      h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(h >> (64 - std::countr_zero(slots_.size())));
  }
  void place(std::uint32_t id) {
    std::size_t i = home(point(id));
    while (slots_[i] != empty) i = (i + 1) & mask();
    slots_[i] = id;
    ++size_;
  }
  void rehash(std::size_t capacity) {
    slots_.assign(capacity, empty);
    size_ = 0;
    for (const Known& k : known_)
      if (k.state != State::forgotten) place(k.id);
  }

  template <class T>
  using Growing = std::vector<T, LargePageAllocator<T>>;  // 2 MiB pages once large
  std::size_t dim_;
  Growing<double> coordinates_;
  Growing<Known> known_;
  Growing<std::uint32_t> slots_;  // ids; a power of two, at most half full
  std::size_t size_ = 0;
};

/// The learner's changes in order, as save() writes them ("pending", "tell",
/// "fail", "remove_unfinished" with their point and values). Kept flat and
/// turned into JSON only by save(): a JSON value per change cost a dozen
/// allocations and about 300 bytes per change, twice per point. A change
/// names its point by id, whose coordinates KnownPoints keeps (the same
/// doubles: both are the checked point), and where its values start follows
/// from the counts of the changes before it: 12 bytes a change, and no
/// second copy of every point, which at 2,000 points in 2D was 64 KiB of
/// fresh memory to fault in.
class ChangeLog {
 public:
  enum class Kind : std::uint8_t { pending, tell, fail, remove_unfinished };

  void add(Kind kind, std::uint32_t id = 0, std::span<const double> values = {}) {
    reserve_growing(records_);
    reserve_growing(values_, values.size());
    records_.push_back({id, static_cast<std::uint32_t>(values.size()), kind});
    values_.insert(values_.end(), values.begin(), values.end());
  }
  [[nodiscard]] bool empty() const noexcept { return records_.empty(); }

  /// `[["tell", [x...], [y...]], ["pending", [x...], [y...]], ["fail", [x...]],
  /// ["remove_unfinished"], ...]`, values as `saved_number` writes them.
  [[nodiscard]] nlohmann::json to_json(const KnownPoints& known) const {
    nlohmann::json out = nlohmann::json::array();
    std::size_t first_value = 0;
    for (const Record& r : records_) {
      nlohmann::json x = nlohmann::json::array();
      if (r.kind != Kind::remove_unfinished)
        for (double c : known.point(r.id)) x.push_back(c);
      nlohmann::json values = nlohmann::json::array();
      for (std::size_t i = 0; i < r.values; ++i)
        values.push_back(saved_number(values_[first_value + i]));
      first_value += r.values;
      switch (r.kind) {
        case Kind::pending: out.push_back({"pending", std::move(x), std::move(values)}); break;
        case Kind::tell: out.push_back({"tell", std::move(x), std::move(values)}); break;
        case Kind::fail: out.push_back({"fail", std::move(x)}); break;
        case Kind::remove_unfinished: out.push_back({"remove_unfinished"}); break;
      }
    }
    return out;
  }

 private:
  struct Record {
    std::uint32_t id;      // the point's (none for remove_unfinished)
    std::uint32_t values;  // how many
    Kind kind;
  };
  template <class T>
  using Growing = std::vector<T, LargePageAllocator<T>>;  // 2 MiB pages once large
  Growing<Record> records_;
  Growing<double> values_;
};

std::string describe(std::span<const double> p) { return fmt::format("({})", fmt::join(p, ", ")); }

}  // namespace

struct LearnerNDCore::Impl {
  std::vector<std::array<double, 2>> bounds;
  std::size_t dim;
  SimplexLoss loss;
  std::size_t vdim;
  std::vector<std::vector<double>> corners;

  // Points are keyed by their exact coordinates (-0.0 folded into 0.0).
  KnownPoints known;
  std::vector<std::uint32_t> told_ids;  // by told index
  // told_points() as vectors, built when asked for: a vector per told point
  // cost an allocation and its fresh memory on every tell.
  mutable std::vector<std::vector<double>> told_points;
  std::vector<double> told_values;
  std::size_t pending_count = 0;
  std::size_t failed_count = 0;
  mutable bool corners_done = false;
  // Every corner is known (pending, told or failed): ask_one stops looking
  // them up. remove_unfinished forgets pending ones.
  bool corners_known = false;

  SimplexMesh combined;
  mutable SimplexMesh real;
  std::vector<std::uint32_t> real_queue;
  mutable std::size_t real_synced = 0;

  ChangeLog changes;
  std::vector<double> pending_value;  // a new pending point's value: reused storage

  Impl(std::vector<std::array<double, 2>> b, SimplexLoss l, std::size_t vd)
      : bounds(std::move(b)),
        dim(bounds.size()),
        loss(std::move(l)),
        vdim(vd),
        known(bounds.size()),
        combined(bounds.size(), &loss, vd),
        real(bounds.size(), &loss, vd) {
    if (dim < 2) {
      throw std::invalid_argument(
          fmt::format("LearnerND: needs at least 2 dimensions, got {} (use Learner1D)", dim));
    }
    if (dim > 16)
      throw std::invalid_argument(fmt::format("LearnerND: {} dimensions is too many", dim));
    for (std::size_t d = 0; d < dim; ++d) {
      if (!std::isfinite(bounds[d][0]) || !std::isfinite(bounds[d][1]) ||
          !(bounds[d][0] < bounds[d][1])) {
        throw std::invalid_argument(fmt::format(
            "LearnerND: bounds of dimension {} must be finite with min < max, got [{}, {}]", d,
            bounds[d][0], bounds[d][1]));
      }
    }
    if (!loss.function) throw std::invalid_argument("LearnerND: the loss has no function");
    // The corners in lexicographic order, as python-adaptive sorts them.
    for (std::size_t mask = 0; mask < (std::size_t{1} << dim); ++mask) {
      std::vector<double> c(dim);
      for (std::size_t d = 0; d < dim; ++d) c[d] = bounds[d][(mask >> (dim - 1 - d)) & 1];
      corners.push_back(c);
    }
  }

  /// A point's coordinates on the stack (dim of them used).
  using PointBuffer = std::array<double, max_dim>;

  /// p mapped to the unit cube, into `out`.
  std::span<const double> scaled(std::span<const double> p, PointBuffer& out) const {
    for (std::size_t d = 0; d < dim; ++d)
      out[d] = (p[d] - bounds[d][0]) / (bounds[d][1] - bounds[d][0]);
    return {out.data(), dim};
  }
  [[nodiscard]] std::vector<double> unscaled(std::span<const double> s) const {
    std::vector<double> p(dim);
    for (std::size_t d = 0; d < dim; ++d) {
      p[d] = std::clamp(bounds[d][0] + s[d] * (bounds[d][1] - bounds[d][0]), bounds[d][0],
                        bounds[d][1]);
      if (p[d] == 0) p[d] = 0.0;
    }
    return p;
  }

  /// raw with -0.0 folded into 0.0, into `out`, after checking its size and bounds.
  std::span<const double> checked(std::span<const double> raw, const char* what,
                                  PointBuffer& out) const {
    if (raw.size() != dim) {
      throw std::invalid_argument(fmt::format(
          "LearnerND::{}: a point of {} coordinates, expected {}", what, raw.size(), dim));
    }
    std::copy(raw.begin(), raw.end(), out.begin());
    const std::span<const double> x(out.data(), dim);
    for (std::size_t d = 0; d < dim; ++d) {
      if (out[d] == 0) out[d] = 0.0;
      if (!(out[d] >= bounds[d][0] && out[d] <= bounds[d][1])) {
        throw std::invalid_argument(
            fmt::format("LearnerND::{}: point {} lies outside the bounds", what, describe(x)));
      }
    }
    return x;
  }

  void check_values(std::span<const double> y) {
    if (vdim == 0) {
      if (y.empty()) throw std::invalid_argument("LearnerND::tell: a value with no components");
      vdim = y.size();
      combined.set_vdim(vdim);
      real.set_vdim(vdim);
    } else if (y.size() != vdim) {
      throw std::invalid_argument(
          fmt::format("LearnerND::tell: a value with {} components, expected {}", y.size(), vdim));
    }
  }

  [[nodiscard]] bool bounds_done() const {
    if (corners_done) return true;
    corners_done = std::all_of(corners.begin(), corners.end(), [&](const auto& c) {
      const Known* k = known.find(c);
      return k != nullptr && k->state != State::pending;
    });
    return corners_done;
  }

  void tell(std::span<const double> raw, std::span<const double> y) {
    PointBuffer buffer;
    const auto x = checked(raw, "tell", buffer);
    check_values(y);
    Known* k = known.find(x);
    if (k == nullptr) {
      k = &known.add(x, State::told, static_cast<std::uint32_t>(told_ids.size()));
      told_ids.push_back(k->id);
      told_values.insert(told_values.end(), y.begin(), y.end());
      PointBuffer s;
      combined.insert(k->id, scaled(x, s), y, true);
    } else {
      if (k->state == State::told) {
        std::copy(y.begin(), y.end(),
                  told_values.begin() + static_cast<std::ptrdiff_t>(k->told_index * vdim));
      } else {
        if (k->state == State::pending) --pending_count;
        if (k->state == State::failed) --failed_count;
        k->state = State::told;
        k->told_index = static_cast<std::uint32_t>(told_ids.size());
        told_ids.push_back(k->id);
        told_values.insert(told_values.end(), y.begin(), y.end());
      }
      combined.set_value(k->id, y, true);
    }
    changes.add(ChangeLog::Kind::tell, k->id, y);
    real_queue.push_back(k->id);
  }

  /// `replayed`: the value recorded when the point was first made pending
  /// (a replay must not recompute it: the interpolation depends in its last
  /// bits on which of the simplices sharing a face the search lands in).
  void tell_pending(std::span<const double> raw, CellRef near = {},
                    const std::vector<double>* replayed = nullptr) {
    PointBuffer buffer;
    const auto x = checked(raw, "tell_pending", buffer);
    if (known.contains(x)) return;
    add_pending(x, near, replayed);
  }
  /// tell_pending for a point that is checked and not known.
  void add_pending(std::span<const double> x, CellRef near = {},
                   const std::vector<double>* replayed = nullptr) {
    const std::uint32_t id = known.add(x, State::pending, 0).id;
    ++pending_count;
    PointBuffer scaled_buffer;
    const auto s = scaled(x, scaled_buffer);
    std::vector<double>& value = pending_value;
    value.assign(vdim, 0.0);
    if (replayed != nullptr && replayed->size() == vdim) {
      value = *replayed;
    } else if (bounds_done()) {
      if (!combined.interpolate(s, near, value)) value.assign(vdim, 0.0);
    }
    changes.add(ChangeLog::Kind::pending, id, value);
    combined.insert(id, s, value, true, near);
  }

  void fail(std::span<const double> raw) {
    std::vector<double> x(raw.begin(), raw.end());
    for (double& v : x)
      if (v == 0) v = 0.0;
    Known* k = x.size() == dim ? known.find(x) : nullptr;
    if (k == nullptr || k->state != State::pending) {
      throw std::invalid_argument(
          fmt::format("LearnerND::fail: point {} is not pending", describe(x)));
    }
    changes.add(ChangeLog::Kind::fail, k->id);
    k->state = State::failed;
    --pending_count;
    ++failed_count;
    combined.set_value(k->id, {}, false);
    real_queue.push_back(k->id);
  }

  void remove_unfinished() {
    changes.add(ChangeLog::Kind::remove_unfinished);
    combined.remove(known.forget_pending());  // in increasing order of id
    pending_count = 0;
    corners_known = false;
  }

  void sync_real() const {
    for (; real_synced < real_queue.size(); ++real_synced) {
      const std::uint32_t id = real_queue[real_synced];
      const Known& k = known.by_id(id);  // told or failed: never forgotten
      std::span<const double> value;
      if (k.state == State::told) {
        value = {told_values.data() + static_cast<std::size_t>(k.told_index) * vdim, vdim};
      }
      if (real.contains(id)) {
        real.set_value(id, value, k.state == State::told);
      } else {
        PointBuffer s;
        real.insert(id, scaled(known.point(id), s), value, k.state == State::told);
      }
    }
  }

  [[nodiscard]] std::vector<double> choose_point(const SimplexMesh::Candidate& c) const {
    return choose_point(c.cell);
  }
  [[nodiscard]] std::vector<double> choose_point(CellRef cell) const {
    SimplexCorners p;
    combined.corners(cell, p);
    if (dim == 2) return choose_point(p, FixedSize<2>{});
    if (dim == 3) return choose_point(p, FixedSize<3>{});
    return choose_point(p, dim);
  }
  /// python-adaptive's choose_point_in_simplex: the centroid when the
  /// circumcentre lies inside the simplex `p`, else the longest edge's midpoint.
  template <class Size>
  [[nodiscard]] std::vector<double> choose_point(const SimplexCorners& p, Size n) const {
    std::array<double, max_dim * max_dim> a;
    std::array<double, max_dim> b;
    double base = 0;
    for (std::size_t d = 0; d < n; ++d) base += p[d] * p[d];
    for (std::size_t i = 0; i < n; ++i) {
      double norm = 0;
      for (std::size_t d = 0; d < n; ++d) {
        a[i * n + d] = 2 * (p[(i + 1) * n + d] - p[d]);
        norm += p[(i + 1) * n + d] * p[(i + 1) * n + d];
      }
      b[i] = norm - base;
    }
    bool centre_inside = false;
    std::array<double, max_dim + 1> w;
    if (solve(a.data(), b.data(), n) && barycentric(p, std::span(b).first(n), n, w)) {
      centre_inside = std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(n + 1),
                                  [](double v) { return v >= -1e-8; });
    }
    std::array<double, max_dim> out{};
    if (centre_inside) {
      for (std::size_t i = 0; i <= n; ++i)
        for (std::size_t d = 0; d < n; ++d) out[d] += p[i * n + d] / static_cast<double>(n + 1);
    } else {
      double longest = -1;
      std::size_t bi = 0, bj = 1;
      for (std::size_t i = 0; i <= n; ++i) {
        for (std::size_t j = i + 1; j <= n; ++j) {
          double length = 0;
          for (std::size_t d = 0; d < n; ++d)
            length += (p[i * n + d] - p[j * n + d]) * (p[i * n + d] - p[j * n + d]);
          if (length > longest) longest = length, bi = i, bj = j;
        }
      }
      for (std::size_t d = 0; d < n; ++d) out[d] = (p[bi * n + d] + p[bj * n + d]) / 2;
    }
    return unscaled(out);
  }

  std::optional<std::pair<std::vector<double>, double>> ask_one() {
    if (!corners_known) {
      for (const auto& c : corners) {
        if (!known.contains(c)) {
          tell_pending(c);
          return std::pair{c, infinity};
        }
      }
      corners_known = true;
    }
    while (auto best = combined.pop_best()) {
      auto p = choose_point(best->cell);  // in the bounds, -0.0 folded
      if (known.contains(p)) continue;
      add_pending(p, best->cell);
      return std::pair{std::move(p), best->loss};
    }
    return std::nullopt;
  }

  Proposal<std::vector<double>> propose(std::size_t n, bool mark_pending) {
    return detail::propose_from_mesh<std::vector<double>>(*this, n, mark_pending);
  }
};

LearnerNDCore::LearnerNDCore(std::vector<std::array<double, 2>> bounds, SimplexLoss loss,
                             std::size_t vdim)
    : impl_(std::make_unique<Impl>(std::move(bounds), std::move(loss), vdim)) {}
LearnerNDCore::~LearnerNDCore() = default;
LearnerNDCore::LearnerNDCore(LearnerNDCore&&) noexcept = default;
LearnerNDCore& LearnerNDCore::operator=(LearnerNDCore&&) noexcept = default;

std::optional<std::pair<std::vector<double>, double>> LearnerNDCore::ask_one() {
  return impl_->ask_one();
}
Proposal<std::vector<double>> LearnerNDCore::propose(std::size_t n, bool mark_pending) {
  return impl_->propose(n, mark_pending);
}
void LearnerNDCore::tell(const std::vector<double>& x, std::span<const double> y) {
  impl_->tell(x, y);
}
void LearnerNDCore::tell_many(const std::vector<std::vector<double>>& xs,
                              std::span<const double> ys) {
  if (xs.empty()) return;
  const std::size_t width = ys.size() / xs.size();
  if (width == 0 || width * xs.size() != ys.size() || (impl_->vdim != 0 && width != impl_->vdim)) {
    throw std::invalid_argument(
        fmt::format("LearnerND::tell_many: {} values for {} points of {} components", ys.size(),
                    xs.size(), impl_->vdim));
  }
  for (std::size_t i = 0; i < xs.size(); ++i) impl_->tell(xs[i], ys.subspan(i * width, width));
}
void LearnerNDCore::tell_pending(const std::vector<double>& x) { impl_->tell_pending(x); }
void LearnerNDCore::fail(const std::vector<double>& x) { impl_->fail(x); }
void LearnerNDCore::remove_unfinished() { impl_->remove_unfinished(); }

double LearnerNDCore::loss() const {
  if (!impl_->bounds_done()) return infinity;
  if (impl_->pending_count == 0) return impl_->combined.max_loss().value_or(0.0);
  impl_->sync_real();
  return impl_->real.max_loss().value_or(0.0);
}
double LearnerNDCore::pending_loss() const {
  if (!impl_->bounds_done()) return infinity;
  return impl_->combined.max_loss().value_or(0.0);
}
std::size_t LearnerNDCore::size() const noexcept { return impl_->told_ids.size(); }
std::size_t LearnerNDCore::pending_size() const noexcept { return impl_->pending_count; }
std::size_t LearnerNDCore::failed_size() const noexcept { return impl_->failed_count; }
std::vector<std::vector<double>> LearnerNDCore::pending_points() const {
  return impl_->known.pending();
}
std::size_t LearnerNDCore::dim() const noexcept { return impl_->dim; }
std::size_t LearnerNDCore::vdim() const noexcept { return impl_->vdim; }
bool LearnerNDCore::bounds_are_done() const noexcept { return impl_->bounds_done(); }
const std::vector<std::vector<double>>& LearnerNDCore::told_points() const {
  auto& points = impl_->told_points;
  for (std::size_t i = points.size(); i < impl_->told_ids.size(); ++i) {
    const auto x = impl_->known.point(impl_->told_ids[i]);
    points.emplace_back(x.begin(), x.end());
  }
  return points;
}
std::span<const double> LearnerNDCore::told_value(std::size_t i) const {
  if (i >= impl_->told_ids.size()) {
    throw std::out_of_range(fmt::format("LearnerND::value: index {} but only {} points told", i,
                                        impl_->told_ids.size()));
  }
  return {impl_->told_values.data() + i * impl_->vdim, impl_->vdim};
}
std::optional<std::vector<double>> LearnerNDCore::interpolate(const std::vector<double>& x) const {
  if (x.size() != impl_->dim) {
    throw std::invalid_argument(fmt::format(
        "LearnerND::interpolate: a point of {} coordinates, expected {}", x.size(), impl_->dim));
  }
  impl_->sync_real();
  Impl::PointBuffer s;
  std::vector<double> out;
  if (!impl_->real.interpolate(impl_->scaled(x, s), {}, out)) return std::nullopt;
  return out;
}
std::size_t LearnerNDCore::simplex_count() const {
  impl_->sync_real();
  return impl_->real.simplex_count();
}

nlohmann::json LearnerNDCore::save() const {
  return seal_state(state_kind, state_version,
                    {{"bounds", impl_->bounds},
                     {"loss", impl_->loss.name},
                     {"vdim", impl_->vdim},
                     {"changes", impl_->changes.to_json(impl_->known)}});
}

void LearnerNDCore::load(const nlohmann::json& state) {
  Impl& m = *impl_;
  load_state(
      state, state_kind, state_version, m.changes.empty(), [&m](const nlohmann::json& saved, int) {
        const auto bounds = saved.at("bounds").get<std::vector<std::array<double, 2>>>();
        const auto loss = saved.at("loss").get<std::string>();
        if (bounds != m.bounds || loss != m.loss.name) {
          throw std::invalid_argument(fmt::format(
              "saved with bounds {} and loss {}; this learner has bounds {} and loss {}",
              saved.at("bounds").dump(), loss, nlohmann::json(m.bounds).dump(), m.loss.name));
        }
        replay_mesh_changes(saved.at("changes"), m, [](const nlohmann::json& c) {
          return std::pair{c.at(1).get<std::vector<double>>(), std::size_t{2}};
        });
      });
}

}  // namespace taskmaster::detail
