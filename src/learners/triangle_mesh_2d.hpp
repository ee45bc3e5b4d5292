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

#include "simplex_losses.hpp"
#include "taskmaster/learners/large_pages.hpp"
#include "taskmaster/learners/learner_2d_losses.hpp"

namespace taskmaster::detail {

/// Per vertex: the caller's id, the vertex's slot in the mesh's array of
/// values and gradients, and the small things read with the vertex (kept in
/// it, so that they cost no extra cache line). Slots are renumbered in
/// space-filling curve order when the mesh reorders its memory; ids never
/// change.
struct VertexSlot {
  std::uint32_t id = 0;
  std::uint32_t slot = 0;
  std::uint32_t mark = 0;      // equals the mesh's counter while a flush has seen the vertex
  std::uint8_t has_value = 0;  // finite values known
  /// A scalar function's value and gradient live here rather than in the
  /// slot array: the gradient estimate and the losses read them with the
  /// point, from the same cache line.
  std::array<double, 3> single{};
};

/// Per triangle: its current loss and the stamp of the queue entry that
/// carries that loss. Stamp 0 means "no valid entry". Stamps only grow, so a
/// stamp newer than the start of an update also says "already recomputed".
struct FaceLossInfo {
  double loss = 0;
  std::uint64_t key = 0;  // from the vertex ids: breaks ties between equal losses
  std::uint64_t stamp = 0;
};

class TriangleMesh2D {
 public:
  using Kernel = CGAL::Exact_predicates_inexact_constructions_kernel;
  using VertexBase = CGAL::Triangulation_vertex_base_with_info_2<VertexSlot, Kernel>;
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

  /// Starts loading the triangles and vertices around f into the caches,
  /// all at once, for a point about to be inserted into f: the insertion,
  /// the gradient estimates and the losses that follow read them one after
  /// another, and at a million points each would otherwise be a miss of its own.
  void prefetch_around(Face f) const;
  [[nodiscard]] std::array<Point2, 3> corners(Face f) const;
  /// Linear interpolation at p from the vertices with values; nullopt outside
  /// the hull or where no vertex of the triangle has a value.
  [[nodiscard]] std::optional<std::vector<double>> interpolate(const Point2& p,
                                                               Face near = Face()) const;
  /// The same into `out` (its storage reused); false where the above gives
  /// nullopt, `out` then holding anything.
  bool interpolate(const Point2& p, Face near, std::vector<double>& out) const;
  [[nodiscard]] std::vector<std::array<Point2, 3>> triangles() const;
  [[nodiscard]] int dimension() const { return triangulation_.dimension(); }

 private:
  struct FaceStamp {
    std::uint64_t operator()(Face f) const noexcept { return f->info().stamp; }
  };

  void grow(std::uint32_t id);
  /// A new slot in the per-vertex arrays.
  std::uint32_t new_slot();
  void store_value(Vertex vertex, std::span<const double> values, bool has_value);
  /// Rebuilds the triangulation's storage, and the per-vertex arrays, in
  /// Hilbert order of the points, keeping every triangle, vertex order and
  /// loss as they are. Adaptive sampling inserts points all over the domain,
  /// so without this the vertices and triangles around any place are
  /// scattered through memory, and at a million points (hundreds of MB)
  /// nearly every access of an update misses the caches. Done each time the
  /// number of vertices has grown by a fixed factor: amortised O(log N) per
  /// point.
  void reorder_memory();
  void reorder_if_grown();
  /// Brings the losses up to date with the changes since the last call:
  /// re-estimates the gradients of every changed vertex and its neighbours
  /// and recomputes the losses of every triangle that depends on them.
  /// Deferred until losses are needed, so that a pending point that is told
  /// before the next ask costs one update, not two.
  void flush();
  void refresh_vertices(const std::vector<Vertex>& vertices);
  void recompute_everything();
  void rebuild_queue();
  void estimate_gradient(Vertex v);
  void compute_loss(Face f);
  [[nodiscard]] static std::array<Vertex, 3> ordered(Face f);

  const TriangleLoss* loss_;
  std::size_t vdim_;
  Delaunay triangulation_;
  std::vector<Vertex, LargePageAllocator<Vertex>> vertices_;  // by id; null when absent
  std::uint32_t slot_count_ = 0;
  std::size_t next_reorder_ = first_reorder;
  // Below this many vertices the mesh (about 250 bytes a vertex) stays in
  // the caches whatever its order, and a reorder would only cost its copy:
  // in a fresh process, one page fault per 4 KiB of the new storage.
  static constexpr std::size_t first_reorder = 16384;
  // Per slot, for more than one output component (one lives in the vertex):
  // vdim values, then 2 * vdim gradient components, side by side so that a
  // loss reads one cache line per vertex.
  std::vector<double> slots_;
  [[nodiscard]] std::size_t stride() const noexcept { return 3 * vdim_; }
  [[nodiscard]] double* values_of(Vertex v) const noexcept {
    return vdim_ == 1 ? v->info().single.data()
                      : const_cast<double*>(slots_.data()) + v->info().slot * stride();
  }
  [[nodiscard]] double* gradients_of(Vertex v) const noexcept { return values_of(v) + vdim_; }
  ValueRange range_;
  LossQueue<Face, FaceStamp> queue_;
  std::uint64_t stamp_ = 0;
  Vertex last_inserted_;
  mutable Vertex last_located_;  // where the last interpolation was: a good start for the next
  // Scratch space for building a TriangleSample without allocating.
  std::vector<double> zeros_;
  std::array<Point2, 3> neighbor_points_{};
  std::vector<double> neighbor_values_;
  std::vector<Vertex> scratch_vertices_;
  std::vector<Vertex> dirty_;      // vertices changed since the last flush
  std::uint32_t vertex_mark_ = 0;  // see VertexSlot::mark
};

}  // namespace taskmaster::detail
