#pragma once
// The nested Clenshaw-Curtis rules behind CQUAD, computed once at start-up.

#include <array>
#include <cstddef>

namespace taskmaster::cquad {

/// Number of rules: an interval is sampled at depth 0..3.
inline constexpr std::size_t depths = 4;
/// Nodes of the rule at each depth; each rule's nodes are a subset of the next.
inline constexpr std::array<std::size_t, depths> rule_size{5, 9, 17, 33};
/// Nodes of the finest rule, the grid every depth is a subset of.
inline constexpr std::size_t max_nodes = 33;

using Vector = std::array<double, max_nodes>;
using Matrix = std::array<double, max_nodes * max_nodes>;  // row-major

/// The tables of P. Gonnet's CQUAD ("Increasing the reliability of adaptive
/// quadrature using explicit interpolants", ACM TOMS 37(3), 2010): the rule
/// nodes, the maps from function values to coefficients in the orthonormal
/// Legendre basis, the maps from a parent's coefficients to a half's, and the
/// Newton polynomials used to drop non-finite values from a fit.
///
/// Computed from their definitions in long double at first use (see
/// src/learners/cquad_rules.cpp), not copied from a table.
///
/// @code
/// const auto& rules = taskmaster::cquad::rules();
/// double x_mid = rules.nodes[16];  // 0: the middle node of the 33-point rule
/// @endcode
struct Rules {
  /// Nodes on [-1, 1] of the 33-point rule, -cos(k pi / 32), exactly
  /// antisymmetric so that an interval's midpoint is exact. The rule at depth
  /// d uses every `stride(d)`-th of them.
  Vector nodes{};
  /// V^-1 per depth (n x n in the top-left corner of a 33 x 33 matrix): maps
  /// function values at the nodes to orthonormal Legendre coefficients.
  std::array<Matrix, depths> values_to_coefficients{};
  /// 2-norm condition number of V per depth: bounds how precise the
  /// integral of an interval can get.
  std::array<double, depths> condition{};
  /// Coefficients of the left and right half of an interval from the
  /// interval's own (33 x 33).
  Matrix shift_left{};
  Matrix shift_right{};
  /// Orthonormal Legendre coefficients of prod_i (x - x_i) over the nodes of
  /// each rule (degree n, so n + 1 of them).
  std::array<std::array<double, max_nodes + 1>, depths> newton{};
  /// Three-term recurrence of the orthonormal Legendre polynomials:
  /// x p_k = alpha[k] p_{k+1} + alpha[k-1] p_{k-1}; gamma[k] = alpha[k-1].
  Vector alpha{};
  Vector gamma{};

  [[nodiscard]] static constexpr std::size_t stride(std::size_t depth) noexcept {
    return std::size_t{1} << (depths - 1 - depth);
  }
};

/// The tables, computed on first call (thread-safe).
const Rules& rules();

}  // namespace taskmaster::cquad
