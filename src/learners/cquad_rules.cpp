// Computes the CQUAD tables from their definitions (P. Gonnet, ACM TOMS 37(3),
// 2010; the same construction as python-adaptive's integrator_coeffs.py, here
// in long double instead of exact rationals).

#include "taskmaster/learners/integrator_rules.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

namespace taskmaster::cquad {
namespace {

using Real = long double;
using Square = std::vector<std::vector<Real>>;

/// Values at x of the orthonormal Legendre polynomials p_0 .. p_{n-1}
/// (int_{-1}^{1} p_j p_k = delta_jk), by Bonnet's recurrence.
std::vector<Real> orthonormal_legendre(Real x, std::size_t n) {
  std::vector<Real> p(n);
  Real previous = 1;  // standard-normalised P_0
  Real current = x;   // P_1
  for (std::size_t k = 0; k < n; ++k) {
    Real standard = 0;
    if (k == 0) {
      standard = 1;
    } else if (k == 1) {
      standard = x;
    } else {
      const Real next =
          ((2 * static_cast<Real>(k) - 1) * x * current - (static_cast<Real>(k) - 1) * previous) /
          static_cast<Real>(k);
      previous = current;
      current = next;
      standard = next;
    }
    p[k] = standard * std::sqrt(static_cast<Real>(k) + Real{0.5});
  }
  return p;
}

/// V[i][k] = p_k(x_i).
Square vandermonde(const std::vector<Real>& xs) {
  Square v;
  for (Real x : xs) v.push_back(orthonormal_legendre(x, xs.size()));
  return v;
}

/// Gauss-Jordan elimination with partial pivoting.
Square inverse(Square a) {
  const std::size_t n = a.size();
  Square inv(n, std::vector<Real>(n, 0));
  for (std::size_t i = 0; i < n; ++i) inv[i][i] = 1;
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r) {
      if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    std::swap(inv[col], inv[pivot]);
    const Real scale = a[col][col];
    for (std::size_t k = 0; k < n; ++k) {
      a[col][k] /= scale;
      inv[col][k] /= scale;
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const Real factor = a[r][col];
      if (factor == 0) continue;
      for (std::size_t k = 0; k < n; ++k) {
        a[r][k] -= factor * a[col][k];
        inv[r][k] -= factor * inv[col][k];
      }
    }
  }
  return inv;
}

/// Ratio of the largest to the smallest singular value, by one-sided Jacobi
/// rotations (Hestenes): orthogonalise the columns, then read their norms.
Real condition_number(Square a) {
  const std::size_t n = a.size();
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (std::size_t p = 0; p + 1 < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        Real alpha = 0, beta = 0, gamma = 0;
        for (std::size_t i = 0; i < n; ++i) {
          alpha += a[i][p] * a[i][p];
          beta += a[i][q] * a[i][q];
          gamma += a[i][p] * a[i][q];
        }
        if (std::fabs(gamma) <= 1e-18L * std::sqrt(alpha * beta)) continue;
        rotated = true;
        const Real zeta = (beta - alpha) / (2 * gamma);
        const Real t = (zeta >= 0 ? 1 : -1) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const Real c = 1 / std::sqrt(1 + t * t);
        const Real s = c * t;
        for (std::size_t i = 0; i < n; ++i) {
          const Real ap = a[i][p];
          const Real aq = a[i][q];
          a[i][p] = c * ap - s * aq;
          a[i][q] = s * ap + c * aq;
        }
      }
    }
    if (!rotated) break;
  }
  Real largest = 0;
  Real smallest = INFINITY;
  for (std::size_t k = 0; k < n; ++k) {
    Real norm = 0;
    for (std::size_t i = 0; i < n; ++i) norm += a[i][k] * a[i][k];
    norm = std::sqrt(norm);
    largest = std::max(largest, norm);
    smallest = std::min(smallest, norm);
  }
  return largest / smallest;
}

/// Nodes and weights of the m-point Gauss-Legendre rule on [-1, 1], by
/// Newton's method on P_m from the usual asymptotic first guesses.
std::vector<std::pair<Real, Real>> gauss_legendre(std::size_t m) {
  std::vector<std::pair<Real, Real>> rule;
  const Real pi = std::numbers::pi_v<Real>;
  for (std::size_t i = 0; i < m; ++i) {
    Real x =
        std::cos(pi * (static_cast<Real>(i) + Real{0.75}) / (static_cast<Real>(m) + Real{0.5}));
    Real derivative = 1;
    for (int iteration = 0; iteration < 100; ++iteration) {
      Real previous = 1, current = x;
      for (std::size_t k = 2; k <= m; ++k) {
        const Real kk = static_cast<Real>(k);
        const Real next = ((2 * kk - 1) * x * current - (kk - 1) * previous) / kk;
        previous = current;
        current = next;
      }
      derivative = static_cast<Real>(m) * (x * current - previous) / (x * x - 1);
      const Real step = current / derivative;
      x -= step;
      if (std::fabs(step) < 1e-19L) break;
    }
    rule.emplace_back(x, 2 / ((1 - x * x) * derivative * derivative));
  }
  return rule;
}

Square product(const Square& a, const Square& b) {
  const std::size_t n = a.size();
  Square c(n, std::vector<Real>(n, 0));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t j = 0; j < n; ++j) c[i][j] += a[i][k] * b[k][j];
    }
  }
  return c;
}

void store(const Square& from, Matrix& to) {
  to.fill(0.0);
  for (std::size_t i = 0; i < from.size(); ++i) {
    for (std::size_t j = 0; j < from.size(); ++j) {
      to[i * max_nodes + j] = static_cast<double>(from[i][j]);
    }
  }
}

Rules compute() {
  Rules r;
  // The nodes as numpy produces them (k times the double step pi/32, then a
  // double cosine), then made antisymmetric.
  const double step = std::numbers::pi / 32;
  Vector raw{};
  for (std::size_t k = 0; k < max_nodes; ++k) raw[k] = -std::cos(static_cast<double>(k) * step);
  raw[max_nodes - 1] = -std::cos(std::numbers::pi);
  for (std::size_t k = 0; k < max_nodes; ++k) r.nodes[k] = (raw[k] - raw[max_nodes - 1 - k]) / 2;

  for (std::size_t k = 0; k < max_nodes; ++k) {
    const Real kk = static_cast<Real>(k);
    r.alpha[k] = static_cast<double>((kk + 1) / std::sqrt((2 * kk + 1) * (2 * kk + 3)));
    r.gamma[k] = k < 2 ? 0.0 : static_cast<double>(kk / std::sqrt(4 * kk * kk - 1));
  }

  const auto gauss = gauss_legendre(max_nodes + 2);
  std::array<std::vector<Real>, depths> rule_nodes;
  for (std::size_t d = 0; d < depths; ++d) {
    for (std::size_t j = 0; j < rule_size[d]; ++j) {
      rule_nodes[d].push_back(r.nodes[j * Rules::stride(d)]);
    }
    const Square v = vandermonde(rule_nodes[d]);
    store(inverse(v), r.values_to_coefficients[d]);
    r.condition[d] = static_cast<double>(condition_number(v));

    // prod (x - x_i) in the orthonormal basis, by projection: Gauss-Legendre
    // quadrature is exact for these polynomial products, and the product
    // evaluated point by point loses nothing to cancellation (expanding it
    // factor by factor does: its coefficients are about 2^-n).
    const std::size_t degree = rule_nodes[d].size();
    std::vector<Real> poly(degree + 1, 0);
    for (const auto& [x, weight] : gauss) {
      Real nodal = 1;
      for (Real xi : rule_nodes[d]) nodal *= x - xi;
      const std::vector<Real> p = orthonormal_legendre(x, degree + 1);
      for (std::size_t k = 0; k <= degree; ++k) poly[k] += weight * nodal * p[k];
    }
    for (std::size_t k = 0; k < poly.size(); ++k) r.newton[d][k] = static_cast<double>(poly[k]);
  }

  const Square inverse_finest = inverse(vandermonde(rule_nodes[depths - 1]));
  for (int side : {-1, 1}) {
    std::vector<Real> half;
    for (Real x : rule_nodes[depths - 1]) half.push_back((x + side) / 2);
    store(product(inverse_finest, vandermonde(half)), side < 0 ? r.shift_left : r.shift_right);
  }
  return r;
}

}  // namespace

const Rules& rules() {
  static const Rules computed = compute();
  return computed;
}

}  // namespace taskmaster::cquad
