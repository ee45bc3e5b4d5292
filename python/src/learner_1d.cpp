// Learner1D for Python: python-adaptive's Learner1D interface over the C++ learner.
//
// The output type (a number or a vector of numbers) is only known at the first
// tell, so the learner starts as a scalar one and becomes a vector one when
// the first value told is a vector (only pending points exist by then, and
// they are carried over). `data` is a Python dict kept in step with the C++
// learner, so reading it costs nothing.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <taskmaster/learners/learner_1d.hpp>

#include "conversions.hpp"
#include "interval_losses.hpp"

namespace taskmaster::python {
namespace {

/// Evaluates a built-in loss on python-adaptive's (xs, ys), so that the
/// native loss objects can also be called as functions.
double call_native_interval_loss(const std::string& name, const py::dict& params,
                                 const py::sequence& xs, const py::sequence& ys) {
  const IntervalLoss loss = native_interval_loss(name, params);
  const std::size_t size = 2 * loss.nth_neighbors + 2;
  if (static_cast<std::size_t>(py::len(xs)) != size ||
      static_cast<std::size_t>(py::len(ys)) != size) {
    throw py::value_error("loss " + name + " takes " + std::to_string(size) + " xs and ys, got " +
                          std::to_string(py::len(xs)) + " and " + std::to_string(py::len(ys)));
  }
  std::vector<double> x(size), y;
  std::vector<unsigned char> present(size, 0);
  std::size_t components = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (xs[i].is_none() || ys[i].is_none()) continue;
    present[i] = 1;
    x[i] = to_double(xs[i], "xs");
    const std::vector<double> values = read_output(ys[i], "ys").components();
    if (components == 0) {
      components = values.size();
      y.assign(size * components, 0.0);
    } else if (values.size() != components) {
      throw py::value_error("the ys of a loss must all have the same length");
    }
    std::copy(values.begin(), values.end(),
              y.begin() + static_cast<std::ptrdiff_t>(i * components));
  }
  if (components == 0) throw py::value_error("a loss needs at least the interval's two points");
  return loss.evaluate(IntervalNeighborhood(loss.nth_neighbors, x, y, present, components));
}

class PyLearner1D {
  using Scalar = Learner1D<double>;
  using Vector = Learner1D<std::vector<double>>;

 public:
  // Defined first: their return types are deduced, so they must precede their uses.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), learner_);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), learner_);
  }

  /// `loss` is what taskmaster.learner.learner1D.loss_spec made of the
  /// user's loss: (the loss object, a built-in name or None, its
  /// parameters, nth_neighbors).
  PyLearner1D(py::object function, const py::sequence& bounds, const py::tuple& loss)
      : function_(std::move(function)),
        loss_object_(loss[0]),
        nth_neighbors_(loss[3].cast<std::size_t>()),
        loss_(loss[1].is_none()
                  ? python_interval_loss(loss_object_, nth_neighbors_)
                  : native_interval_loss(loss[1].cast<std::string>(), loss[2].cast<py::dict>())),
        learner_(make_learner(bounds, loss_)) {
    bounds_ = py::make_tuple(std::get<Scalar>(learner_).lower_bound(),
                             std::get<Scalar>(learner_).upper_bound());
  }

  py::tuple ask(std::size_t n, bool tell_pending) {
    Proposal<double> p = visit([&](auto& l) { return l.propose(n, tell_pending); });
    return py::make_tuple(float_list(p.points), float_list(p.loss_improvements));
  }

  void tell(const py::object& x, const py::object& y) {
    if (PyDict_Contains(data_.ptr(), x.ptr()) == 1) return;
    const double xd = to_double(x, "x");
    Output out = read_output(y, "Learner1D.tell");
    tell_values(xd, out);
    if (PyDict_SetItem(data_.ptr(), x.ptr(), out.stored.ptr()) != 0) throw py::error_already_set();
  }

  void tell_many(const py::object& xs_in, const py::object& ys_in, bool force) {
    auto xs = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(xs_in);
    if (!xs || xs.ndim() != 1) {
      PyErr_Clear();
      throw py::value_error(
          "Learner1D.tell_many: xs must be a one-dimensional sequence of numbers");
    }
    auto ys = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(ys_in);
    if (!ys || ys.ndim() == 0 || ys.ndim() > 2) {
      PyErr_Clear();
      throw py::value_error(
          "Learner1D.tell_many: ys must be a sequence of numbers or of equal-length vectors");
    }
    const auto n = static_cast<std::size_t>(xs.shape(0));
    if (static_cast<std::size_t>(ys.shape(0)) != n) {
      throw py::value_error("Learner1D.tell_many: " + std::to_string(n) + " xs but " +
                            std::to_string(ys.shape(0)) + " ys");
    }
    const bool scalar = ys.ndim() == 1;
    const std::size_t c = scalar ? 1 : static_cast<std::size_t>(ys.shape(1));
    if (n == 0) return;
    if (!scalar) become_vector(c);
    if (scalar && std::holds_alternative<Vector>(learner_) && c != vdim_) {
      throw py::value_error("Learner1D.tell_many: scalar values told to a learner of vectors");
    }
    const double* x = xs.data();
    const double* y = ys.data();
    // Points already known keep their first value, as with tell: the C++
    // learner skips them, and the dict keeps its entry (setdefault).
    translate_errors([&] {
      if (auto* l = std::get_if<Scalar>(&learner_)) {
        l->tell_many(std::vector<double>(x, x + n), std::vector<double>(y, y + n), force);
      } else {
        std::vector<std::vector<double>> rows(n);
        for (std::size_t i = 0; i < n; ++i) rows[i].assign(y + i * c, y + (i + 1) * c);
        std::get<Vector>(learner_).tell_many(std::vector<double>(x, x + n), rows, force);
      }
    });
    for (std::size_t i = 0; i < n; ++i) {
      py::object key = new_float(x[i]);
      py::object value = scalar ? new_float(y[i]) : output_object(y + i * c, c, false);
      if (PyDict_SetDefault(data_.ptr(), key.ptr(), value.ptr()) == nullptr) {
        throw py::error_already_set();
      }
    }
    if (scalar_outputs_ == Unknown) scalar_outputs_ = scalar ? Yes : No;
  }

  void tell_pending(const py::object& x) {
    if (PyDict_Contains(data_.ptr(), x.ptr()) == 1) return;
    const double xd = to_double(x, "x");
    translate_errors([&] { visit([&](auto& l) { l.tell_pending(xd); }); });
  }

  void fail(double x) {
    translate_errors([&] { visit([&](auto& l) { l.fail(x); }); });
  }

  void remove_unfinished() {
    visit([](auto& l) { l.remove_unfinished(); });
  }

  double loss(bool real) const {
    return visit([&](const auto& l) { return real ? l.loss() : l.pending_loss(); });
  }

  py::set pending_points() const {
    py::set out;
    for (double x : visit([](const auto& l) { return l.pending_points(); })) out.add(new_float(x));
    return out;
  }

  std::size_t npoints() const { return static_cast<std::size_t>(PyDict_Size(data_.ptr())); }
  std::size_t vdim() const { return vdim_ == 0 ? 1 : vdim_; }

  /// (npoints, 1 + vdim) array of x and the output components, sorted by x.
  py::array_t<double> to_numpy() const {
    return visit([&](const auto& l) {
      const auto data = l.data();
      const std::size_t width = 1 + vdim();
      py::array_t<double> out(
          {static_cast<py::ssize_t>(data.size()), static_cast<py::ssize_t>(width)});
      double* row = out.mutable_data();
      for (const auto& [x, y] : data) {
        row[0] = x;
        if constexpr (std::is_same_v<std::decay_t<decltype(y)>, double>) {
          row[1] = y;
        } else {
          std::copy(y.begin(), y.end(), row + 1);
        }
        row += width;
      }
      return out;
    });
  }

  /// The C++ learner's state (JSON) and whether it holds vector outputs.
  py::tuple state() const {
    const std::string json = visit([](const auto& l) { return l.save().dump(); });
    return py::make_tuple(json, static_cast<int>(scalar_outputs_), vdim_);
  }

  void load_state(const std::string& json, int scalar_outputs, std::size_t vdim, py::dict data) {
    translate_errors([&] {
      if (vdim > 0 && scalar_outputs == No) become_vector(vdim);
      const auto state = nlohmann::json::parse(json);
      visit([&](auto& l) { l.load(state); });
    });
    scalar_outputs_ = static_cast<Kind>(scalar_outputs);
    vdim_ = vdim;
    data_ = std::move(data);
  }

  py::object function_;
  py::object loss_object_;
  std::size_t nth_neighbors_;
  py::tuple bounds_;
  py::dict data_;

 private:
  enum Kind : int { Unknown = 0, Yes = 1, No = 2 };

  static std::variant<Scalar, Vector> make_learner(const py::sequence& bounds,
                                                   const IntervalLoss& loss) {
    if (py::len(bounds) != 2) {
      throw py::value_error("Learner1D: bounds must be two numbers (a, b), got " +
                            std::to_string(py::len(bounds)) + " values");
    }
    const double a = to_double(bounds[0], "bounds[0]");
    const double b = to_double(bounds[1], "bounds[1]");
    return translate_errors(
        [&] { return std::variant<Scalar, Vector>(std::in_place_type<Scalar>, a, b, loss); });
  }

  /// Switches to vector outputs while nothing has been told yet.
  void become_vector(std::size_t components) {
    if (std::holds_alternative<Vector>(learner_)) return;
    auto& scalar = std::get<Scalar>(learner_);
    if (scalar_outputs_ == Yes) {
      throw py::value_error("Learner1D: a vector value told to a learner of scalar values");
    }
    const auto pending = scalar.pending_points();
    const auto failed = scalar.failed_points();
    Vector vector(scalar.lower_bound(), scalar.upper_bound(), loss_);
    for (double x : pending) vector.tell_pending(x);
    for (double x : failed) {
      vector.tell_pending(x);
      vector.fail(x);
    }
    learner_.emplace<Vector>(std::move(vector));
    vdim_ = components;
    scalar_outputs_ = No;
  }

  void tell_values(double x, const Output& out) {
    translate_errors([&] {
      if (out.scalar && scalar_outputs_ != No) {
        std::get<Scalar>(learner_).tell(x, out.first);
        if (scalar_outputs_ == Unknown) {
          scalar_outputs_ = Yes;
          vdim_ = 1;
        }
        return;
      }
      if (scalar_outputs_ == Unknown) become_vector(out.size());
      if (scalar_outputs_ == Yes) {
        throw std::invalid_argument("Learner1D.tell: y at x = " + std::to_string(x) + " has " +
                                    std::to_string(out.size()) +
                                    " components, but earlier values were scalars");
      }
      std::get<Vector>(learner_).tell(x, out.components());
    });
  }

  IntervalLoss loss_;
  std::variant<Scalar, Vector> learner_;
  Kind scalar_outputs_ = Unknown;
  std::size_t vdim_ = 0;
};

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_learner_1d, m) {
  using namespace taskmaster::python;
  m.doc() = "Learner1D of the taskmaster package (use taskmaster.Learner1D).";
  // The class users get is this one: the Python side adds its remaining
  // methods to it rather than subclassing, so that ask and tell, the calls
  // a run makes per point, reach C++ without a Python-level detour.
  py::class_<PyLearner1D>(m, "Learner1D", py::dynamic_attr())
      .def(py::init([](py::object function, const py::sequence& bounds, py::object loss) {
             py::tuple spec = py::module_::import("taskmaster.learner.learner1D")
                                  .attr("loss_spec")(std::move(loss));
             return std::make_unique<PyLearner1D>(std::move(function), bounds, spec);
           }),
           py::arg("function"), py::arg("bounds"), py::arg("loss_per_interval") = py::none())
      .def("ask", &PyLearner1D::ask, py::arg("n"), py::arg("tell_pending") = true)
      .def("tell", &PyLearner1D::tell, py::arg("x"), py::arg("y"))
      .def("tell_many", &PyLearner1D::tell_many, py::arg("xs"), py::arg("ys"), py::kw_only(),
           py::arg("force") = false)
      .def("tell_pending", &PyLearner1D::tell_pending, py::arg("x"))
      .def("_fail", &PyLearner1D::fail, py::arg("x"))
      .def("remove_unfinished", &PyLearner1D::remove_unfinished)
      .def("loss", &PyLearner1D::loss, py::arg("real") = true)
      .def_property_readonly("pending_points", &PyLearner1D::pending_points)
      .def_property_readonly("npoints", &PyLearner1D::npoints)
      .def_property_readonly("vdim", &PyLearner1D::vdim)
      .def("to_numpy", &PyLearner1D::to_numpy)
      .def("_state", &PyLearner1D::state)
      .def("_load_state", &PyLearner1D::load_state)
      .def_readwrite("function", &PyLearner1D::function_)
      .def_readonly("loss_per_interval", &PyLearner1D::loss_object_)
      .def_readonly("nth_neighbors", &PyLearner1D::nth_neighbors_)
      .def_readonly("bounds", &PyLearner1D::bounds_)
      .def_readonly("data", &PyLearner1D::data_);
  m.def("interval_loss", &call_native_interval_loss, py::arg("name"), py::arg("params"),
        py::arg("xs"), py::arg("ys"));
}
