#pragma once
// A Delaunay triangulation of valued points whose triangle losses are kept
// in a priority queue and updated only where the triangulation changes.
// Private to the library: it exposes CGAL types.

#include <CGAL/Delaunay_triangulation_2.h>
#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Triangulation_face_base_with_info_2.h>
#include <CGAL/Triangulation_vertex_base_with_info_2.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "taskmaster/learners/learner_2d_losses.hpp"

namespace taskmaster::detail {

/// Per triangle: its current loss and the stamp of the queue entry that
/// carries that loss. Stamp 0 means "no valid entry".
struct FaceLossInfo {
  double loss = 0;
  std::uint64_t key = 0;  // from the vertex ids: breaks ties between equal losses
  std::uint64_t stamp = 0;
  std::uint64_t visit = 0;  // marks a face as handled in the current update
};

class TriangleMesh2D {
 public:
  using Kernel = CGAL::Exact_predicates_inexact_constructions_kernel;
  using VertexBase = CGAL::Triangulation_vertex_base_with_info_2<std::uint32_t, Kernel>;
  using FaceBase = CGAL::Triangulation_face_base_with_info_2<FaceLossInfo, Kernel>;
  using Tds = CGAL::Triangulation_data_structure_2<VertexBase, FaceBase>;
  using Delaunay = CGAL::Delaunay_triangulation_2<Kernel, Tds>;
  using Face = Delaunay::Face_handle;
  using Vertex = Delaunay::Vertex_handle;

  /// A triangle taken from the queue, with the loss it had.
  struct Candidate {
    Face face;
    double loss;
    std::uint64_t stamp;
  };

  explicit TriangleMesh2D(const TriangleLoss* loss, std::size_t vdim);

  /// Changes the number of output components (only while no value is known:
  /// every value becomes zeros).
  void set_vdim(std::size_t vdim);
  [[nodiscard]] std::size_t vdim() const noexcept { return vdim_; }

  [[nodiscard]] bool contains(std::uint32_t id) const noexcept {
    return id < vertices_.size() && vertices_[id] != Vertex();
  }
  /// Inserts a point with its values (`has_value == false`: a point without a
  /// value, e.g. a failed one). Returns false if another point already sits
  /// at exactly these coordinates (the point is then not part of the mesh).
  /// `near` is a triangle at or near p, where the search for p starts.
  bool insert(std::uint32_t id, const Point2& p, std::span<const double> values, bool has_value,
              Face near = Face());
  /// Inserts many points at once (spatially sorted), then computes every loss.
  void insert_many(const std::vector<std::uint32_t>& ids, const std::vector<Point2>& points,
                   std::span<const double> values);
  void set_value(std::uint32_t id, std::span<const double> values, bool has_value);
  void remove(const std::vector<std::uint32_t>& ids);

  /// The triangle with the largest loss, taken out of the queue.
  std::optional<Candidate> pop_best();
  /// Puts back a candidate taken by pop_best (if the triangle did not change).
  void push_back(const Candidate& c);
  /// The largest loss (nullopt without triangles).
  std::optional<double> max_loss();

  [[nodiscard]] std::array<Point2, 3> corners(Face f) const;
  /// Linear interpolation at p from the vertices with values; nullopt outside
  /// the hull or where no vertex of the triangle has a value.
  [[nodiscard]] std::optional<std::vector<double>> interpolate(const Point2& p,
                                                               Face near = Face()) const;
  [[nodiscard]] std::vector<std::array<Point2, 3>> triangles() const;
  [[nodiscard]] int dimension() const { return triangulation_.dimension(); }

 private:
  struct Entry {
    double loss;
    std::uint64_t key;
    std::uint64_t stamp;
    Face face;
  };
  /// Max-heap order: larger loss first; equal losses by a key computed from
  /// the triangle's vertex ids, so that the order depends only on the
  /// current triangulation and not on when each loss was computed (a loaded
  /// learner computes them in other batches).
  struct Lower {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      if (a.loss != b.loss) return a.loss < b.loss;
      if (a.key != b.key) return a.key > b.key;
      return a.stamp > b.stamp;
    }
  };

  void grow(std::uint32_t id);
  void store_value(std::uint32_t id, std::span<const double> values, bool has_value);
  /// Brings the losses up to date with the changes since the last call:
  /// re-estimates the gradients of every changed vertex and its neighbours
  /// and recomputes the losses of every triangle that depends on them.
  /// Deferred until losses are needed, so that a pending point that is told
  /// before the next ask costs one update, not two.
  void flush();
  void flush_if_long();
  void refresh_vertices(const std::vector<Vertex>& vertices);
  void recompute_everything();
  void rebuild_queue();
  void estimate_gradient(Vertex v);
  void compute_loss(Face f);
  [[nodiscard]] static std::array<Vertex, 3> ordered(Face f);
  /// Whether the value range moved enough since the losses were computed
  /// that all of them must be recomputed (as LearnerND does, factor 1.1).
  bool value_scale_changed();
  [[nodiscard]] double value_scale() const;

  const TriangleLoss* loss_;
  std::size_t vdim_;
  Delaunay triangulation_;
  std::vector<Vertex> vertices_;  // by id; null when absent
  // Per id: vdim values, then 2 * vdim gradient components, side by side so
  // that a loss reads one cache line per vertex (points live in the vertices).
  std::vector<double> slots_;
  [[nodiscard]] std::size_t stride() const noexcept { return 3 * vdim_; }
  [[nodiscard]] double* values_of(std::uint32_t id) noexcept {
    return slots_.data() + id * stride();
  }
  [[nodiscard]] const double* values_of(std::uint32_t id) const noexcept {
    return slots_.data() + id * stride();
  }
  [[nodiscard]] double* gradients_of(std::uint32_t id) noexcept { return values_of(id) + vdim_; }
  std::vector<std::uint8_t> has_value_;  // finite values known
  std::vector<double> low_, high_;       // value range per component
  double loss_scale_ = 1.0;              // value scale the current losses use
  std::vector<Entry> queue_;
  std::uint64_t stamp_ = 0;
  std::uint64_t visit_ = 0;
  Vertex last_inserted_;
  mutable Vertex last_located_;  // where the last interpolation was: a good start for the next
  // Scratch space for building a TriangleSample without allocating.
  std::vector<double> zeros_;
  std::array<Point2, 3> neighbor_points_{};
  std::vector<double> neighbor_values_;
  std::vector<Vertex> scratch_vertices_;
  std::vector<Vertex> dirty_;                // vertices changed since the last flush
  std::vector<std::uint64_t> vertex_visit_;  // by id, marks vertices during a flush
};

}  // namespace taskmaster::detail
