// LearnerND for Python: python-adaptive's LearnerND interface over the C++ learner.
//
// As in learner_2d.cpp, the core takes its number of output components from
// the first value told; `data` is a Python dict kept in step with the core,
// and points outside the bounds are kept in `data` without being learned
// from, as python-adaptive does.

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

#include <taskmaster/learners/learner_nd.hpp>

#include "conversions.hpp"
#include "mesh_conversions.hpp"

namespace taskmaster::python {
namespace {

/// A built-in loss by the name and parameters the Python side recognised.
SimplexLoss native_simplex_loss(const std::string& name, const py::dict& params) {
  if (name == "default") return losses_nd::default_loss();
  if (name == "uniform") return losses_nd::uniform();
  if (name == "std") return losses_nd::std_loss();
  if (name == "triangle") return losses_nd::triangle();
  if (name == "curvature") {
    const double exploration =
        params.contains("exploration") ? to_double(params["exploration"], "exploration") : 0.05;
    return losses_nd::curvature(exploration);
  }
  throw py::value_error("unknown LearnerND loss: " + name);
}

/// What a Python loss returned, as python-adaptive reads it (a number, or a
/// NumPy array of one element).
double loss_value(const py::handle& result) {
  if (PyFloat_Check(result.ptr())) return PyFloat_AS_DOUBLE(result.ptr());
  if (py::hasattr(result, "item") && !PyLong_Check(result.ptr())) {
    return to_double(result.attr("item")(), "the value returned by the loss function");
  }
  return to_double(result, "the value returned by the loss function");
}

/// A (rows, width) array, or a (rows,) one for scalar values.
py::array_t<double> value_rows(const double* values, std::size_t rows, std::size_t width,
                               bool scalar) {
  if (scalar) {
    py::array_t<double> out(static_cast<py::ssize_t>(rows));
    std::copy(values, values + rows, out.mutable_data());
    return out;
  }
  py::array_t<double> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(width)});
  std::copy(values, values + rows * width, out.mutable_data());
  return out;
}

/// A loss written in Python with python-adaptive's signature
/// loss(simplex, values, value_scale), and with nth_neighbors == 1
/// loss(simplex, values, value_scale, neighbors, neighbor_values).
SimplexLoss python_simplex_loss(py::object function, std::size_t nth_neighbors,
                                const LossContextPtr& context) {
  SimplexLoss loss;
  loss.name = "python";
  loss.uses_neighbors = nth_neighbors > 0;
  loss.function = [function = std::move(function), nth_neighbors, context](const SimplexSample& s) {
    return context->errors.guard([&] {
      const bool scalar = context->scalar_outputs && s.vdim <= 1;
      auto simplex = value_rows(s.points.data(), s.dim + 1, s.dim, false);
      // Before the first value the learner knows no output size (its
      // pending corners have no values): they are shown as zeros.
      const std::vector<double> zeros(s.vdim == 0 ? s.dim + 1 : 0, 0.0);
      auto values = s.vdim == 0 ? value_rows(zeros.data(), s.dim + 1, 1, true)
                                : value_rows(s.values.data(), s.dim + 1, s.vdim, scalar);
      // python-adaptive's value_scale is the factor the values were multiplied by.
      const double value_scale = 1.0 / s.value_scale;
      if (nth_neighbors == 0) return loss_value(function(simplex, values, value_scale));
      py::list neighbors, neighbor_values;
      for (std::size_t m = 0; m < s.neighbor_count; ++m) {
        neighbors.append(value_rows(s.neighbor_points.data() + m * s.dim, s.dim, 1, true));
        const double* v = s.neighbor_values.data() + m * s.vdim;
        if (s.vdim == 0) {
          neighbor_values.append(new_float(0.0));
        } else if (scalar) {
          neighbor_values.append(new_float(*v));
        } else {
          neighbor_values.append(value_rows(v, s.vdim, 1, true));
        }
      }
      return loss_value(function(simplex, values, value_scale, neighbors, neighbor_values));
    });
  };
  return loss;
}

/// Evaluates a built-in loss on python-adaptive's arguments, so that the
/// native loss objects can be called as functions.
double call_native_simplex_loss(const std::string& name, const py::dict& params,
                                const py::handle& simplex_in, const py::handle& values_in,
                                double value_scale, const py::handle& neighbors_in,
                                const py::handle& neighbor_values_in) {
  const SimplexLoss loss = native_simplex_loss(name, params);
  const auto simplex = DoubleArray::ensure(simplex_in);
  const auto values = DoubleArray::ensure(values_in);
  if (!simplex || !values) {
    PyErr_Clear();
    throw py::value_error("a simplex loss needs numeric simplex points and values");
  }
  if (simplex.ndim() != 2 || simplex.shape(0) != simplex.shape(1) + 1) {
    throw py::value_error("the simplex must be (dim + 1, dim) points");
  }
  const auto dim = static_cast<std::size_t>(simplex.shape(1));
  if (values.ndim() < 1 || values.ndim() > 2 ||
      static_cast<std::size_t>(values.shape(0)) != dim + 1) {
    throw py::value_error("the values must be (dim + 1,) or (dim + 1, vdim)");
  }
  const std::size_t vdim = values.ndim() == 1 ? 1 : static_cast<std::size_t>(values.shape(1));
  std::vector<double> neighbor_points, neighbor_values;
  std::size_t count = 0;
  if (!neighbors_in.is_none() && !neighbor_values_in.is_none()) {
    const auto neighbors = py::reinterpret_borrow<py::sequence>(neighbors_in);
    const auto neighbor_vals = py::reinterpret_borrow<py::sequence>(neighbor_values_in);
    if (py::len(neighbors) != py::len(neighbor_vals)) {
      throw py::value_error("neighbors and neighbor_values must have the same length");
    }
    for (std::size_t i = 0; i < py::len(neighbors); ++i) {
      if (neighbors[i].is_none() || neighbor_vals[i].is_none()) continue;
      const auto point = DoubleArray::ensure(neighbors[i]);
      const auto value = DoubleArray::ensure(neighbor_vals[i]);
      if (!point || !value || static_cast<std::size_t>(point.size()) != dim ||
          static_cast<std::size_t>(value.size()) != vdim) {
        PyErr_Clear();
        throw py::value_error("each neighbour must be a point of dim coordinates with vdim values");
      }
      neighbor_points.insert(neighbor_points.end(), point.data(), point.data() + dim);
      neighbor_values.insert(neighbor_values.end(), value.data(), value.data() + vdim);
      ++count;
    }
  }
  SimplexSample sample;
  sample.dim = dim;
  sample.vdim = vdim;
  sample.points = {simplex.data(), (dim + 1) * dim};
  sample.values = {values.data(), (dim + 1) * vdim};
  sample.value_scale = value_scale != 0 ? 1.0 / value_scale : 1.0;
  sample.neighbor_count = count;
  sample.neighbor_points = neighbor_points;
  sample.neighbor_values = neighbor_values;
  return translate_errors([&] { return loss.function(sample); });
}

class PyLearnerND {
  using Core = detail::LearnerNDCore;

 public:
  PyLearnerND(py::object function, const py::sequence& bounds, py::object loss_per_simplex,
              const std::optional<std::string>& native_name, const py::dict& native_params,
              std::size_t nth_neighbors)
      : function_(std::move(function)),
        loss_object_(std::move(loss_per_simplex)),
        nth_neighbors_(nth_neighbors),
        context_(std::make_shared<LossContext>()),
        loss_(native_name ? native_simplex_loss(*native_name, native_params)
                          : python_simplex_loss(loss_object_, nth_neighbors, context_)),
        box_(read_bounds(bounds)),
        dim_(box_.size()),
        core_(translate_errors([&] { return Core(box_, loss_, 0); })) {
    py::tuple b(dim_);
    for (std::size_t d = 0; d < dim_; ++d) {
      PyTuple_SET_ITEM(b.ptr(), static_cast<Py_ssize_t>(d),
                       py::make_tuple(box_[d][0], box_[d][1]).release().ptr());
    }
    bounds_ = b;
  }

  py::tuple ask(std::size_t n, bool tell_pending) {
    const InCall in_call(*context_);
    Proposal<std::vector<double>> p = core_.propose(n, tell_pending);
    py::list points(p.points.size());
    for (std::size_t i = 0; i < p.points.size(); ++i) {
      py::object point = point_tuple(p.points[i].data(), dim_);
      if (tell_pending) pending_.add(point);
      PyList_SET_ITEM(points.ptr(), static_cast<Py_ssize_t>(i), point.release().ptr());
    }
    context_->errors.raise_pending();
    return py::make_tuple(std::move(points), float_list(p.loss_improvements));
  }

  void tell(const py::handle& x, const py::handle& y) {
    const InCall in_call(*context_);
    std::vector<double> p(dim_);
    py::object key = read_point(x, dim_, p.data(), "LearnerND.tell");
    if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) return;  // known: python-adaptive ignores it
    if (y.is_none()) {  // python-adaptive's way of saying "pending"
      tell_pending_point(p);
      return;
    }
    Output out = read_output(y, "LearnerND.tell");
    accept_kind(out.scalar, out.size(), "LearnerND.tell");
    if (inside(p.data())) {
      translate_errors([&] { core_.tell(p, components(out)); });
      discard_pending(key);
      context_->errors.raise_pending();
    } else {
      set_item(outside_, key, out.stored);
    }
    set_item(data_, key, out.stored);
  }

  void tell_many(const py::handle& xs_in, const py::handle& ys_in) {
    const InCall in_call(*context_);
    const DoubleArray xs = read_points(xs_in, dim_, "LearnerND.tell_many");
    auto ys = DoubleArray::ensure(ys_in);
    if (!ys || ys.ndim() == 0 || ys.ndim() > 2) {
      PyErr_Clear();
      throw py::value_error(
          "LearnerND.tell_many: ys must be a sequence of numbers or of equal-length vectors");
    }
    const auto n = static_cast<std::size_t>(xs.shape(0));
    if (static_cast<std::size_t>(ys.shape(0)) != n) {
      throw py::value_error("LearnerND.tell_many: " + std::to_string(n) + " points but " +
                            std::to_string(ys.shape(0)) + " values");
    }
    if (n == 0) return;
    const bool scalar = ys.ndim() == 1;
    const std::size_t c = scalar ? 1 : static_cast<std::size_t>(ys.shape(1));
    accept_kind(scalar, c, "LearnerND.tell_many");
    const double* x = xs.data();
    const double* y = ys.data();
    std::vector<double> p(dim_);
    for (std::size_t i = 0; i < n; ++i) {
      py::object key = point_tuple(x + i * dim_, dim_);
      if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) continue;
      py::object value = output_object(y + i * c, c, scalar);
      if (inside(x + i * dim_)) {
        p.assign(x + i * dim_, x + (i + 1) * dim_);
        translate_errors([&] { core_.tell(p, std::span<const double>(y + i * c, c)); });
        discard_pending(key);
      } else {
        set_item(outside_, key, value);
      }
      set_item(data_, key, value);
    }
    context_->errors.raise_pending();
  }

  /// `simplex`, python-adaptive's hint where the point lies, is not needed.
  void tell_pending(const py::handle& x, const py::handle& /*simplex*/) {
    const InCall in_call(*context_);
    std::vector<double> p(dim_);
    read_point(x, dim_, p.data(), "LearnerND.tell_pending");
    tell_pending_point(p);
  }

  void fail(const py::handle& x) {
    const InCall in_call(*context_);
    std::vector<double> p(dim_);
    py::object key = read_point(x, dim_, p.data(), "LearnerND._fail");
    translate_errors([&] { core_.fail(p); });
    discard_pending(key);
    context_->errors.raise_pending();
  }

  void remove_unfinished() {
    const InCall in_call(*context_);
    core_.remove_unfinished();
    pending_.attr("clear")();
    context_->errors.raise_pending();
  }

  double loss(bool real) {
    const InCall in_call(*context_);
    const double value = real ? core_.loss() : core_.pending_loss();
    context_->errors.raise_pending();
    return value;
  }

  py::set pending_points() const { return py::set(pending_); }

  std::size_t npoints() const { return static_cast<std::size_t>(PyDict_Size(data_.ptr())); }
  std::size_t ndim() const { return dim_; }
  std::size_t vdim() const { return vdim_ == 0 ? 1 : vdim_; }
  bool bounds_are_done() const {
    const InCall in_call(*context_);
    return core_.bounds_are_done();
  }
  std::size_t simplex_count() const {
    const InCall in_call(*context_);
    return core_.simplex_count();
  }

  /// (npoints, ndim + vdim): the points and the output components, sorted as
  /// python-adaptive sorts its data.
  py::array_t<double> to_numpy() const {
    const InCall in_call(*context_);
    const std::size_t width = dim_ + vdim();
    std::vector<double> table;
    const auto& told = core_.told_points();
    table.reserve((told.size() + static_cast<std::size_t>(PyDict_Size(outside_.ptr()))) * width);
    for (std::size_t i = 0; i < told.size(); ++i) {
      table.insert(table.end(), told[i].begin(), told[i].end());
      const auto v = core_.told_value(i);
      table.insert(table.end(), v.begin(), v.end());
    }
    std::vector<double> p(dim_);
    for (auto [key, value] : outside_) {
      read_point(key, dim_, p.data(), "to_numpy");
      table.insert(table.end(), p.begin(), p.end());
      const Output out = read_output(value, "to_numpy");
      const auto c = components(out);
      table.insert(table.end(), c.begin(), c.end());
    }
    sort_rows(table, width);
    return table_array(table, width);
  }

  /// The linear interpolation of the told data at (m, ndim) points: (m,
  /// vdim), NaN where there is none.
  py::array_t<double> interpolate(const py::handle& points_in) const {
    const InCall in_call(*context_);
    const auto points = DoubleArray::ensure(points_in);
    if (!points || points.ndim() != 2 || static_cast<std::size_t>(points.shape(1)) != dim_) {
      PyErr_Clear();
      throw py::value_error("LearnerND: interpolation points must form an (m, " +
                            std::to_string(dim_) + ") array");
    }
    const auto m = static_cast<std::size_t>(points.shape(0));
    const std::size_t width = vdim();
    py::array_t<double> out({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(width)});
    double* o = out.mutable_data();
    std::fill(o, o + m * width, std::numeric_limits<double>::quiet_NaN());
    std::vector<double> x(dim_);
    for (std::size_t i = 0; i < m; ++i) {
      x.assign(points.data() + i * dim_, points.data() + (i + 1) * dim_);
      bool nan = false;
      for (double v : x) nan = nan || std::isnan(v);
      if (nan) continue;
      auto v = core_.interpolate(x);
      if (v && v->size() == width) std::copy(v->begin(), v->end(), o + i * width);
    }
    return out;
  }

  py::tuple state() const {
    const InCall in_call(*context_);
    return py::make_tuple(core_.save().dump(), static_cast<int>(kind_), vdim_);
  }

  void load_state(const std::string& json, int kind, std::size_t vdim, const py::dict& data) {
    const InCall in_call(*context_);
    if (kind < Unknown || kind > Vector) throw py::value_error("malformed LearnerND state");
    Core fresh = translate_errors([&] { return Core(box_, loss_, 0); });
    const auto state = translate_errors([&] { return nlohmann::json::parse(json); });
    translate_errors([&] { fresh.load(state); });
    context_->errors.raise_pending();
    core_ = std::move(fresh);
    kind_ = static_cast<Kind>(kind);
    vdim_ = vdim;
    context_->scalar_outputs = kind_ != Vector;
    data_ = py::dict(data);
    outside_ = py::dict();
    std::vector<double> p(dim_);
    for (auto [key, value] : data_) {
      read_point(key, dim_, p.data(), "LearnerND state");
      if (!inside(p.data())) set_item(outside_, key, value);
    }
    // The pending points are those the saved changes left pending.
    pending_ = py::set();
    for (const auto& change : state_payload(state).at("changes")) {
      const auto kind_name = change.at(0).get<std::string>();
      if (kind_name == "remove_unfinished") {
        pending_.attr("clear")();
        continue;
      }
      const auto x = change.at(1).get<std::vector<double>>();
      py::object key = point_tuple(x.data(), dim_);
      if (kind_name == "pending") {
        pending_.add(key);
      } else {
        discard_pending(key);
      }
    }
  }

  py::object function_;
  py::object loss_object_;
  std::size_t nth_neighbors_;
  py::tuple bounds_;
  py::dict data_;

 private:
  enum Kind : int { Unknown = 0, Scalar = 1, Vector = 2 };

  static std::vector<std::array<double, 2>> read_bounds(const py::sequence& bounds) {
    std::vector<std::array<double, 2>> box;
    for (std::size_t d = 0; d < py::len(bounds); ++d) {
      py::object pair = bounds[d];
      if (!PySequence_Check(pair.ptr()) || py::len(pair) != 2) {
        throw py::value_error("LearnerND: bounds must be pairs (min, max), one per dimension");
      }
      box.push_back(
          {to_double(pair[py::int_(0)], "bounds"), to_double(pair[py::int_(1)], "bounds")});
    }
    return box;
  }

  [[nodiscard]] bool inside(const double* p) const {
    for (std::size_t d = 0; d < dim_; ++d) {
      if (!(p[d] >= box_[d][0] && p[d] <= box_[d][1])) return false;
    }
    return true;
  }

  static void set_item(const py::dict& dict, const py::handle& key, const py::handle& value) {
    if (PyDict_SetItem(dict.ptr(), key.ptr(), value.ptr()) != 0) throw py::error_already_set();
  }

  void tell_pending_point(const std::vector<double>& p) {
    if (!inside(p.data())) return;  // python-adaptive ignores these too
    const std::size_t before = core_.pending_size();
    translate_errors([&] { core_.tell_pending(p); });
    context_->errors.raise_pending();
    if (core_.pending_size() > before) pending_.add(point_tuple(p.data(), dim_));
  }

  void discard_pending(const py::handle& key) {
    if (PySet_Discard(pending_.ptr(), key.ptr()) < 0) throw py::error_already_set();
  }

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
  SimplexLoss loss_;
  std::vector<std::array<double, 2>> box_;
  std::size_t dim_;
  Core core_;
  py::dict outside_;
  py::set pending_;  // the core keeps no list of them
  Kind kind_ = Unknown;
  std::size_t vdim_ = 0;
};

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_learner_nd, m) {
  using namespace taskmaster::python;
  m.doc() = "LearnerND of the taskmaster package (use taskmaster.LearnerND).";
  // The class users get is this one: the Python side adds its remaining
  // methods to it rather than subclassing (see learner_2d.cpp).
  py::class_<PyLearnerND>(m, "LearnerND", py::dynamic_attr())
      .def(py::init([](py::object function, const py::object& bounds, py::object loss,
                       bool anisotropic, const py::object& triangulation_backend) {
             // (the loss object kept, native name or None, its parameters, nth_neighbors);
             // refuses what the learner does not support, as python-adaptive would.
             py::tuple spec = py::module_::import("taskmaster.learner.learnerND")
                                  .attr("_loss_spec")(bounds, std::move(loss), anisotropic,
                                                      triangulation_backend);
             std::optional<std::string> name;
             if (!spec[1].is_none()) name = spec[1].cast<std::string>();
             if (!PySequence_Check(bounds.ptr())) {
               throw py::value_error("LearnerND: bounds must be a sequence of (min, max) pairs");
             }
             return std::make_unique<PyLearnerND>(std::move(function), bounds.cast<py::sequence>(),
                                                  spec[0], name, spec[2].cast<py::dict>(),
                                                  spec[3].cast<std::size_t>());
           }),
           py::arg("func"), py::arg("bounds"), py::arg("loss_per_simplex") = py::none(),
           py::kw_only(), py::arg("anisotropic") = false, py::arg("triangulation_backend") = "auto")
      .def("ask", &PyLearnerND::ask, py::arg("n"), py::arg("tell_pending") = true)
      .def("tell", &PyLearnerND::tell, py::arg("point"), py::arg("value"))
      .def("tell_many", &PyLearnerND::tell_many, py::arg("xs"), py::arg("ys"))
      .def("tell_pending", &PyLearnerND::tell_pending, py::arg("point"), py::kw_only(),
           py::arg("simplex") = py::none())
      .def("_fail", &PyLearnerND::fail, py::arg("point"))
      .def("remove_unfinished", &PyLearnerND::remove_unfinished)
      .def("loss", &PyLearnerND::loss, py::arg("real") = true)
      .def_property_readonly("pending_points", &PyLearnerND::pending_points)
      .def_property_readonly("npoints", &PyLearnerND::npoints)
      .def_property_readonly("ndim", &PyLearnerND::ndim)
      .def_property_readonly("vdim", &PyLearnerND::vdim)
      .def_property_readonly("bounds_are_done", &PyLearnerND::bounds_are_done)
      .def_property_readonly("_simplex_count", &PyLearnerND::simplex_count)
      .def("to_numpy", &PyLearnerND::to_numpy)
      .def("_interpolate", &PyLearnerND::interpolate, py::arg("points"))
      .def("_state", &PyLearnerND::state)
      .def("_load_state", &PyLearnerND::load_state)
      .def_readwrite("function", &PyLearnerND::function_)
      .def_readonly("loss_per_simplex", &PyLearnerND::loss_object_)
      .def_readonly("nth_neighbors", &PyLearnerND::nth_neighbors_)
      .def_readonly("bounds", &PyLearnerND::bounds_)
      .def_readonly("data", &PyLearnerND::data_);
  m.def("simplex_loss", &call_native_simplex_loss, py::arg("name"), py::arg("params"),
        py::arg("simplex"), py::arg("values"), py::arg("value_scale"),
        py::arg("neighbors") = py::none(), py::arg("neighbor_values") = py::none());
}
