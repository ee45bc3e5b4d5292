// Learner2D for Python: python-adaptive's Learner2D interface over the C++ learner.
//
// The core is built as the command-line tool builds its learner, with the
// number of output components taken from the first value told; the binding
// remembers whether values are scalars or vectors, which the core does not
// distinguish. `data` is a Python dict kept in step with the core, so reading
// it costs nothing.
//
// Points outside the bounds are kept in `data` but not learned from, as
// python-adaptive does (its Learner2D stores them and leaves them out of the
// triangulation).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <taskmaster/learners/learner_2d.hpp>

#include "conversions.hpp"
#include "mesh_conversions.hpp"

namespace taskmaster::python {
namespace {

std::optional<double> optional_param(const py::dict& params, const char* key) {
  if (!params.contains(key) || params[key].is_none()) return std::nullopt;
  return to_double(params[key], key);
}

/// A built-in loss by the name and parameters the Python side recognised.
TriangleLoss native_triangle_loss(const std::string& name, const py::dict& params) {
  auto param = [&](const char* key, double fallback) {
    return optional_param(params, key).value_or(fallback);
  };
  if (name == "default") return losses_2d::default_loss();
  if (name == "uniform") return losses_2d::uniform();
  if (name == "minimize_triangle_surface") return losses_2d::minimize_triangle_surface();
  if (name == "triangle") return losses_2d::triangle();
  if (name == "resolution") {
    return losses_2d::resolution(param("min_distance", 0.0), param("max_distance", 1.0));
  }
  if (name == "thresholded") {
    return losses_2d::thresholded(optional_param(params, "lower_threshold"),
                                  optional_param(params, "upper_threshold"),
                                  param("priority_factor", 0.1));
  }
  throw py::value_error("unknown Learner2D loss: " + name);
}

/// A loss written in Python with python-adaptive's signature loss(ip). The
/// learner computes losses one triangle at a time, so `callback(points,
/// values)` gets the triangle (rows 0-2) and the vertices across its edges
/// (scaled coordinates, raw values, (k, vdim)) and returns the triangle's
/// loss; the Python side builds the interpolator over them and calls loss(ip).
TriangleLoss python_triangle_loss(py::object callback, const LossContextPtr& context) {
  TriangleLoss loss;
  loss.name = "python";
  loss.uses_gradients = false;
  loss.uses_neighbors = true;
  loss.function = [callback = std::move(callback), context](const TriangleSample& t) {
    return context->errors.guard([&] {
      const std::size_t k = 3 + t.neighbor_points.size();
      // Before the first value (no output size yet) the values are zeros.
      const std::size_t vdim = t.vdim == 0 ? 1 : t.vdim;
      const std::size_t known = t.vdim;
      py::array_t<double> points({static_cast<py::ssize_t>(k), py::ssize_t{2}});
      py::array_t<double> values({static_cast<py::ssize_t>(k), static_cast<py::ssize_t>(vdim)});
      double* p = points.mutable_data();
      double* v = values.mutable_data();
      std::fill(v, v + k * vdim, 0.0);
      for (std::size_t i = 0; i < 3; ++i) {
        p[2 * i] = t.points[i][0];
        p[2 * i + 1] = t.points[i][1];
        for (std::size_t c = 0; c < known; ++c) v[i * vdim + c] = t.values[i][c];
      }
      for (std::size_t m = 0; m < t.neighbor_points.size(); ++m) {
        p[2 * (3 + m)] = t.neighbor_points[m][0];
        p[2 * (3 + m) + 1] = t.neighbor_points[m][1];
        for (std::size_t c = 0; c < known; ++c)
          v[(3 + m) * vdim + c] = t.neighbor_values[m * known + c];
      }
      return to_double(callback(points, values), "the value returned by the loss function");
    });
  };
  return loss;
}

bool loss_uses_gradients(const std::string& name, const py::dict& params) {
  return native_triangle_loss(name, params).uses_gradients;
}

/// Evaluates a built-in loss on every triangle of a triangulation given as
/// python-adaptive's loss functions see it (ip.tri.points, ip.tri.simplices,
/// ip.tri.neighbors, ip.values), so that the native loss objects can be
/// called as loss(ip). `gradients` ((n, 2 * vdim), d/dx and d/dy per
/// component) are required by the losses that use them.
py::array_t<double> triangle_losses(const std::string& name, const py::dict& params,
                                    const py::handle& points_in, const py::handle& simplices_in,
                                    const py::handle& neighbors_in, const py::handle& values_in,
                                    const py::handle& gradients_in, double value_scale) {
  const TriangleLoss loss = native_triangle_loss(name, params);
  const auto points = DoubleArray::ensure(points_in);
  using IndexArray = py::array_t<long long, py::array::c_style | py::array::forcecast>;
  const auto simplices = IndexArray::ensure(simplices_in);
  const auto neighbors = IndexArray::ensure(neighbors_in);
  const auto values = DoubleArray::ensure(values_in);
  if (!points || !simplices || !neighbors || !values) {
    PyErr_Clear();
    throw py::value_error("triangle losses need numeric points, simplices, neighbors and values");
  }
  if (points.ndim() != 2 || points.shape(1) != 2) throw py::value_error("points must be (n, 2)");
  const auto n = static_cast<std::size_t>(points.shape(0));
  if (simplices.ndim() != 2 || simplices.shape(1) != 3 || neighbors.ndim() != 2 ||
      neighbors.shape(1) != 3 || neighbors.shape(0) != simplices.shape(0)) {
    throw py::value_error("simplices and neighbors must both be (m, 3)");
  }
  if (values.ndim() < 1 || static_cast<std::size_t>(values.shape(0)) != n) {
    throw py::value_error("values must have one row per point");
  }
  const std::size_t vdim =
      values.ndim() == 1 ? 1
                         : static_cast<std::size_t>(values.size()) / std::max<std::size_t>(n, 1);
  if (n > 0 && static_cast<std::size_t>(values.size()) != n * vdim) {
    throw py::value_error("values must be (n,) or (n, vdim)");
  }
  std::vector<double> zeros(2 * vdim, 0.0);
  std::optional<DoubleArray> gradients;
  if (!gradients_in.is_none()) {
    gradients = DoubleArray::ensure(gradients_in);
    if (!*gradients || static_cast<std::size_t>(gradients->size()) != n * 2 * vdim) {
      PyErr_Clear();
      throw py::value_error("gradients must be (n, 2 * vdim)");
    }
  } else if (loss.uses_gradients) {
    throw py::value_error("the loss " + name + " needs the gradients at the points");
  }
  const double* p = points.data();
  const double* v = values.data();
  const long long* s = simplices.data();
  const long long* nb = neighbors.data();
  const auto m = static_cast<std::size_t>(simplices.shape(0));
  auto check_index = [&](long long i) {
    if (i < 0 || static_cast<std::size_t>(i) >= n)
      throw py::value_error("a simplex refers to a missing point");
    return static_cast<std::size_t>(i);
  };
  py::array_t<double> out(static_cast<py::ssize_t>(m));
  double* result = out.mutable_data();
  std::vector<Point2> neighbor_points;
  std::vector<double> neighbor_values;
  std::vector<std::size_t> across;
  for (std::size_t t = 0; t < m; ++t) {
    TriangleSample sample;
    sample.vdim = vdim;
    sample.value_scale = value_scale;
    std::array<std::size_t, 3> vertex{};
    for (std::size_t i = 0; i < 3; ++i) {
      vertex[i] = check_index(s[3 * t + i]);
      sample.points[i] = {p[2 * vertex[i]], p[2 * vertex[i] + 1]};
      sample.values[i] = {v + vertex[i] * vdim, vdim};
      sample.gradients[i] =
          gradients ? std::span<const double>(gradients->data() + vertex[i] * 2 * vdim, 2 * vdim)
                    : std::span<const double>(zeros);
    }
    if (loss.uses_neighbors) {
      // The vertices of the neighbouring triangles not in this one, sorted
      // and unique as python-adaptive's triangle_loss takes them.
      across.clear();
      for (std::size_t k = 0; k < 3; ++k) {
        const long long j = nb[3 * t + k];
        if (j < 0) continue;
        if (static_cast<std::size_t>(j) >= m)
          throw py::value_error("a neighbour refers to a missing simplex");
        for (std::size_t i = 0; i < 3; ++i) {
          const std::size_t w = check_index(s[3 * static_cast<std::size_t>(j) + i]);
          if (w != vertex[0] && w != vertex[1] && w != vertex[2]) across.push_back(w);
        }
      }
      std::sort(across.begin(), across.end());
      across.erase(std::unique(across.begin(), across.end()), across.end());
      neighbor_points.clear();
      neighbor_values.clear();
      for (std::size_t w : across) {
        neighbor_points.push_back({p[2 * w], p[2 * w + 1]});
        neighbor_values.insert(neighbor_values.end(), v + w * vdim, v + (w + 1) * vdim);
      }
      sample.neighbor_points = neighbor_points;
      sample.neighbor_values = neighbor_values;
    }
    result[t] = translate_errors([&] { return loss.function(sample); });
  }
  return out;
}

class PyLearner2D {
  using Core = detail::Learner2DCore;

 public:
  PyLearner2D(py::object function, const py::sequence& bounds, py::object loss_per_triangle,
              const std::optional<std::string>& native_name, const py::dict& native_params,
              py::object callback)
      : function_(std::move(function)),
        loss_object_(std::move(loss_per_triangle)),
        context_(std::make_shared<LossContext>()),
        loss_(native_name ? native_triangle_loss(*native_name, native_params)
                          : python_triangle_loss(std::move(callback), context_)),
        box_(read_bounds(bounds)),
        core_(translate_errors([&] { return Core(box_, loss_, 1.0, 0); })) {
    bounds_ = py::make_tuple(py::make_tuple(box_[0][0], box_[0][1]),
                             py::make_tuple(box_[1][0], box_[1][1]));
  }

  py::tuple ask(std::size_t n, bool tell_pending) {
    const InCall in_call(*context_);
    if (n == 1 && tell_pending) {
      auto next = core_.ask_one();
      context_->errors.raise_pending();
      if (!next) return py::make_tuple(py::list(), py::list());
      py::list points(1), losses(1);
      PyList_SET_ITEM(points.ptr(), 0, point_tuple(next->first.data(), 2).release().ptr());
      PyList_SET_ITEM(losses.ptr(), 0, PyFloat_FromDouble(next->second));
      return py::make_tuple(std::move(points), std::move(losses));
    }
    Proposal<Point2> p = core_.propose(n, tell_pending);
    context_->errors.raise_pending();
    py::list points(p.points.size());
    for (std::size_t i = 0; i < p.points.size(); ++i) {
      PyList_SET_ITEM(points.ptr(), static_cast<Py_ssize_t>(i),
                      point_tuple(p.points[i].data(), 2).release().ptr());
    }
    return py::make_tuple(std::move(points), float_list(p.loss_improvements));
  }

  void tell(const py::handle& x, const py::handle& y) {
    const InCall in_call(*context_);
    Point2 p{};
    py::object key = read_point(x, 2, p.data(), "Learner2D.tell");
    Output out = read_output(y, "Learner2D.tell");
    accept_kind(out.scalar, out.size(), "Learner2D.tell");
    if (inside(p)) {
      translate_errors([&] { core_.tell(p, components(out)); });
      context_->errors.raise_pending();
      ++version_;
    } else {
      set_item(outside_, key, out.stored);
    }
    set_item(data_, key, out.stored);
  }

  void tell_many(const py::handle& xs_in, const py::handle& ys_in) {
    const InCall in_call(*context_);
    const DoubleArray xs = read_points(xs_in, 2, "Learner2D.tell_many");
    auto ys = DoubleArray::ensure(ys_in);
    if (!ys || ys.ndim() == 0 || ys.ndim() > 2) {
      PyErr_Clear();
      throw py::value_error(
          "Learner2D.tell_many: ys must be a sequence of numbers or of equal-length vectors");
    }
    const auto n = static_cast<std::size_t>(xs.shape(0));
    if (static_cast<std::size_t>(ys.shape(0)) != n) {
      throw py::value_error("Learner2D.tell_many: " + std::to_string(n) + " points but " +
                            std::to_string(ys.shape(0)) + " values");
    }
    if (n == 0) return;
    const bool scalar = ys.ndim() == 1;
    const std::size_t c = scalar ? 1 : static_cast<std::size_t>(ys.shape(1));
    accept_kind(scalar, c, "Learner2D.tell_many");
    const double* x = xs.data();
    const double* y = ys.data();
    std::vector<Point2> points;
    std::vector<double> values;
    points.reserve(n);
    values.reserve(n * c);
    for (std::size_t i = 0; i < n; ++i) {
      const Point2 p{x[2 * i], x[2 * i + 1]};
      if (!inside(p)) continue;
      points.push_back(p);
      values.insert(values.end(), y + i * c, y + (i + 1) * c);
    }
    if (!points.empty()) {
      translate_errors([&] { core_.tell_many(points, values); });
      ++version_;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Point2 p{x[2 * i], x[2 * i + 1]};
      py::object key = point_tuple(p.data(), 2);
      py::object value = output_object(y + i * c, c, scalar);
      if (!inside(p)) set_item(outside_, key, value);
      set_item(data_, key, value);
    }
    context_->errors.raise_pending();
  }

  void tell_pending(const py::handle& x) {
    const InCall in_call(*context_);
    Point2 p{};
    read_point(x, 2, p.data(), "Learner2D.tell_pending");
    if (!inside(p)) return;  // python-adaptive ignores these too
    translate_errors([&] { core_.tell_pending(p); });
    context_->errors.raise_pending();
  }

  void fail(const py::handle& x) {
    const InCall in_call(*context_);
    Point2 p{};
    read_point(x, 2, p.data(), "Learner2D._fail");
    translate_errors([&] { core_.fail(p); });
    context_->errors.raise_pending();
  }

  void remove_unfinished() {
    const InCall in_call(*context_);
    core_.remove_unfinished();
    context_->errors.raise_pending();
  }

  double loss(bool real) {
    const InCall in_call(*context_);
    const double value = real ? core_.loss() : core_.pending_loss();
    context_->errors.raise_pending();
    return value;
  }

  py::set pending_points() const {
    const InCall in_call(*context_);
    py::set out;
    for (const auto& p : core_.pending_points()) out.add(point_tuple(p.data(), 2));
    return out;
  }

  std::size_t npoints() const { return static_cast<std::size_t>(PyDict_Size(data_.ptr())); }
  std::size_t vdim() const { return vdim_ == 0 ? 1 : vdim_; }
  bool bounds_are_done() const {
    const InCall in_call(*context_);
    return core_.bounds_are_done();
  }
  double aspect_ratio() const { return aspect_; }
  std::size_t version() const { return version_; }

  /// Re-triangulates the learner's points under a new aspect ratio (the told
  /// points again, then the pending ones).
  void set_aspect_ratio(double ratio) {
    const InCall in_call(*context_);
    if (ratio == aspect_) return;
    Core fresh = translate_errors([&] { return Core(box_, loss_, ratio, core_.vdim()); });
    const auto& told = core_.told_points();
    if (!told.empty()) {
      std::vector<double> values;
      for (std::size_t i = 0; i < told.size(); ++i) {
        const auto v = core_.told_value(i);
        values.insert(values.end(), v.begin(), v.end());
      }
      translate_errors([&] { fresh.tell_many(told, values); });
    }
    for (const auto& p : core_.pending_points()) fresh.tell_pending(p);
    context_->errors.raise_pending();
    core_ = std::move(fresh);
    aspect_ = ratio;
    ++version_;
  }

  /// (npoints, 2 + vdim): x, y and the output components, sorted as
  /// python-adaptive sorts its data.
  py::array_t<double> to_numpy() const {
    const InCall in_call(*context_);
    const std::size_t width = 2 + vdim();
    std::vector<double> table;
    const auto& told = core_.told_points();
    table.reserve((told.size() + static_cast<std::size_t>(PyDict_Size(outside_.ptr()))) * width);
    for (std::size_t i = 0; i < told.size(); ++i) {
      table.push_back(told[i][0]);
      table.push_back(told[i][1]);
      const auto v = core_.told_value(i);
      table.insert(table.end(), v.begin(), v.end());
    }
    for (auto [key, value] : outside_) {
      const auto point = py::reinterpret_borrow<py::tuple>(key);
      table.push_back(to_double(point[0], "x"));
      table.push_back(to_double(point[1], "y"));
      const Output out = read_output(value, "to_numpy");
      const auto c = components(out);
      table.insert(table.end(), c.begin(), c.end());
    }
    sort_rows(table, width);
    return table_array(table, width);
  }

  /// The linear interpolation of the told data at (m, 2) points: (m, vdim),
  /// NaN where there is none (outside the told points' hull).
  py::array_t<double> interpolate(const py::handle& points_in) const {
    const InCall in_call(*context_);
    const auto points = DoubleArray::ensure(points_in);
    if (!points || points.ndim() != 2 || points.shape(1) != 2) {
      PyErr_Clear();
      throw py::value_error("Learner2D: interpolation points must form an (m, 2) array");
    }
    const auto m = static_cast<std::size_t>(points.shape(0));
    const std::size_t width = vdim();
    py::array_t<double> out({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(width)});
    double* o = out.mutable_data();
    const double* p = points.data();
    std::fill(o, o + m * width, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < m; ++i) {
      const Point2 x{p[2 * i], p[2 * i + 1]};
      if (std::isnan(x[0]) || std::isnan(x[1])) continue;
      auto v = core_.interpolate(x);
      if (v && v->size() == width) std::copy(v->begin(), v->end(), o + i * width);
    }
    return out;
  }

  /// The triangles of the told data, (T, 3, 2), in the learner's coordinates.
  py::array_t<double> triangles() const {
    const InCall in_call(*context_);
    const auto triangles = core_.triangles();
    py::array_t<double> out(
        {static_cast<py::ssize_t>(triangles.size()), py::ssize_t{3}, py::ssize_t{2}});
    double* o = out.mutable_data();
    for (const auto& t : triangles)
      for (const auto& p : t) *o++ = p[0], *o++ = p[1];
    return out;
  }

  /// The core's state (JSON), the output kind, vdim and aspect ratio.
  py::tuple state() const {
    const InCall in_call(*context_);
    return py::make_tuple(core_.save().dump(), static_cast<int>(kind_), vdim_, aspect_);
  }

  void load_state(const std::string& json, int kind, std::size_t vdim, double aspect,
                  const py::dict& data) {
    const InCall in_call(*context_);
    if (kind < Unknown || kind > Vector) throw py::value_error("malformed Learner2D state");
    Core fresh = translate_errors([&] { return Core(box_, loss_, aspect, 0); });
    translate_errors([&] { fresh.load(nlohmann::json::parse(json)); });
    context_->errors.raise_pending();
    core_ = std::move(fresh);
    kind_ = static_cast<Kind>(kind);
    vdim_ = vdim;
    aspect_ = aspect;
    context_->scalar_outputs = kind_ != Vector;
    data_ = py::dict(data);
    outside_ = py::dict();
    for (auto [key, value] : data_) {
      Point2 p{};
      read_point(key, 2, p.data(), "Learner2D state");
      if (!inside(p)) set_item(outside_, py::reinterpret_borrow<py::object>(key), value);
    }
    ++version_;
  }

  py::object function_;
  py::object loss_object_;
  py::tuple bounds_;
  py::dict data_;

 private:
  enum Kind : int { Unknown = 0, Scalar = 1, Vector = 2 };

  static Bounds2D read_bounds(const py::sequence& bounds) {
    if (py::len(bounds) != 2) {
      throw py::value_error(
          "Learner2D: bounds must be two pairs [(x_min, x_max), (y_min, y_max)], got " +
          std::to_string(py::len(bounds)) + " items");
    }
    Bounds2D box{};
    for (std::size_t d = 0; d < 2; ++d) {
      py::object pair = bounds[d];
      if (!PySequence_Check(pair.ptr()) || py::len(pair) != 2) {
        throw py::value_error("Learner2D: each of the bounds must be a pair (min, max)");
      }
      box[d] = {to_double(pair[py::int_(0)], "bounds"), to_double(pair[py::int_(1)], "bounds")};
    }
    return box;
  }

  [[nodiscard]] bool inside(const Point2& p) const {
    return p[0] >= box_[0][0] && p[0] <= box_[0][1] && p[1] >= box_[1][0] && p[1] <= box_[1][1];
  }

  static void set_item(const py::dict& dict, const py::handle& key, const py::handle& value) {
    if (PyDict_SetItem(dict.ptr(), key.ptr(), value.ptr()) != 0) throw py::error_already_set();
  }

  /// Checks a value's shape against the values told so far; the first value
  /// decides between scalars and vectors.
  void accept_kind(bool scalar, std::size_t components, const char* where) {
    if (scalar) {
      if (kind_ == Vector) {
        throw py::value_error(std::string(where) + ": a scalar value told to a learner of " +
                              std::to_string(vdim_) + "-component vectors");
      }
      kind_ = Scalar;
      vdim_ = 1;
      return;
    }
    if (components == 0) throw py::value_error(std::string(where) + ": an empty vector value");
    if (kind_ == Scalar) {
      throw py::value_error(std::string(where) +
                            ": a vector value told to a learner of scalar values");
    }
    if (kind_ == Vector) {
      if (components != vdim_) {
        throw py::value_error(std::string(where) + ": a value with " + std::to_string(components) +
                              " components, expected " + std::to_string(vdim_));
      }
      return;
    }
    kind_ = Vector;
    vdim_ = components;
    context_->scalar_outputs = false;
  }

  LossContextPtr context_;
  TriangleLoss loss_;
  Bounds2D box_;
  Core core_;
  py::dict outside_;
  Kind kind_ = Unknown;
  std::size_t vdim_ = 0;
  double aspect_ = 1.0;
  std::size_t version_ = 0;
};

// ask and tell as C-API methods (see add_fast_method): a sequential run
// calls each once per point.

PyObject* fast_ask(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return call_guarded([&]() -> py::object {
    std::array<PyObject*, 2> a{};
    fastcall_arguments<2>("ask", {"n", "tell_pending"}, args, nargs, kwnames, a);
    if (a[0] == nullptr) throw py::type_error("ask() missing required argument 'n'");
    const long long n = PyLong_AsLongLong(a[0]);
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (n < 0) throw py::value_error("ask(n): n must be >= 0, got " + std::to_string(n));
    const bool tell_pending = a[1] == nullptr || PyObject_IsTrue(a[1]) == 1;
    return self_of<PyLearner2D>(self).ask(static_cast<std::size_t>(n), tell_pending);
  });
}

PyObject* fast_tell(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return call_guarded([&]() -> py::object {
    std::array<PyObject*, 2> a{};
    fastcall_arguments<2>("tell", {"point", "value"}, args, nargs, kwnames, a);
    if (a[0] == nullptr || a[1] == nullptr)
      throw py::type_error("tell() takes a point and a value");
    self_of<PyLearner2D>(self).tell(a[0], a[1]);
    return py::none();
  });
}

PyMethodDef ask_method{"ask", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_ask)),
                       METH_FASTCALL | METH_KEYWORDS,
                       "ask($self, /, n, tell_pending=True)\n--\n\n"
                       "Up to n points to evaluate next and the loss improvement expected of each: "
                       "(points, loss_improvements). With tell_pending the points become pending."};
PyMethodDef tell_method{
    "tell", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_tell)),
    METH_FASTCALL | METH_KEYWORDS,
    "tell($self, /, point, value)\n--\n\n"
    "Tells the learner the value at point (a value told again replaces the first)."};

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_learner_2d, m) {
  using namespace taskmaster::python;
  m.doc() = "Learner2D of the taskmaster package (use taskmaster.Learner2D).";
  // The class users get is this one: the Python side adds its remaining
  // methods to it rather than subclassing, so that ask and tell reach C++
  // without a Python-level detour.
  py::class_<PyLearner2D>(m, "Learner2D", py::dynamic_attr())
      .def(py::init([](py::object function, const py::object& bounds, py::object loss) {
             // (the loss object kept, native name or None, its parameters, Python callback or None)
             py::tuple spec = py::module_::import("taskmaster.learner.learner2D")
                                  .attr("_loss_spec")(std::move(loss));
             std::optional<std::string> name;
             if (!spec[1].is_none()) name = spec[1].cast<std::string>();
             if (!PySequence_Check(bounds.ptr())) {
               throw py::value_error("Learner2D: bounds must be a sequence of (min, max) pairs");
             }
             return std::make_unique<PyLearner2D>(std::move(function), bounds.cast<py::sequence>(),
                                                  spec[0], name, spec[2].cast<py::dict>(), spec[3]);
           }),
           py::arg("function"), py::arg("bounds"), py::arg("loss_per_triangle") = py::none())
      .def("ask", &PyLearner2D::ask, py::arg("n"), py::arg("tell_pending") = true)
      .def("tell", &PyLearner2D::tell, py::arg("point"), py::arg("value"))
      .def("tell_many", &PyLearner2D::tell_many, py::arg("xs"), py::arg("ys"))
      .def("tell_pending", &PyLearner2D::tell_pending, py::arg("point"))
      .def("_fail", &PyLearner2D::fail, py::arg("point"))
      .def("remove_unfinished", &PyLearner2D::remove_unfinished)
      .def("loss", &PyLearner2D::loss, py::arg("real") = true)
      .def_property_readonly("pending_points", &PyLearner2D::pending_points)
      .def_property_readonly("npoints", &PyLearner2D::npoints)
      .def_property_readonly("vdim", &PyLearner2D::vdim)
      .def_property_readonly("bounds_are_done", &PyLearner2D::bounds_are_done)
      .def_property_readonly("_aspect_ratio", &PyLearner2D::aspect_ratio)
      .def_property_readonly("_version", &PyLearner2D::version)
      .def("_set_aspect_ratio", &PyLearner2D::set_aspect_ratio, py::arg("ratio"))
      .def("to_numpy", &PyLearner2D::to_numpy)
      .def("_interpolate", &PyLearner2D::interpolate, py::arg("points"))
      .def("_triangles", &PyLearner2D::triangles)
      .def("_state", &PyLearner2D::state)
      .def("_load_state", &PyLearner2D::load_state)
      .def_readwrite("function", &PyLearner2D::function_)
      .def_readonly("loss_per_triangle", &PyLearner2D::loss_object_)
      .def_readonly("bounds", &PyLearner2D::bounds_)
      .def_readonly("data", &PyLearner2D::data_);
  add_fast_method(m.attr("Learner2D"), ask_method);
  add_fast_method(m.attr("Learner2D"), tell_method);
  m.def("triangle_losses", &triangle_losses, py::arg("name"), py::arg("params"), py::arg("points"),
        py::arg("simplices"), py::arg("neighbors"), py::arg("values"), py::arg("gradients"),
        py::arg("value_scale"));
  m.def("loss_uses_gradients", &loss_uses_gradients, py::arg("name"), py::arg("params"));
}
