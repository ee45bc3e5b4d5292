// IntegratorLearner for Python: python-adaptive's interface over the C++
// CQUAD learner, and python-adaptive's DivergentIntegralError (a ValueError).
//
// The learner asks exactly the points python-adaptive's asks for the same
// sequence of asks and tells. `data` is a Python dict kept in step with the
// C++ learner; the interval tree (pending nodes, intervals) is read from the
// C++ learner's saved state when asked for, which is not a hot path.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <taskmaster/history/codec.hpp>
#include <taskmaster/learners/integrator_learner.hpp>

#include "conversions.hpp"

namespace taskmaster::python {
namespace {

/// A told value: a real number; None gets python-adaptive's message.
double read_integrand_value(py::handle y) {
  if (y.is_none()) {
    throw py::type_error(
        "IntegratorLearner.tell: Y-value may not be None, use learner.tell_pending(x) to indicate "
        "that this value is currently being calculated");
  }
  if (PyFloat_Check(y.ptr())) return PyFloat_AS_DOUBLE(y.ptr());
  // NumPy would parse text as a number.
  const bool text = PyUnicode_Check(y.ptr()) || PyBytes_Check(y.ptr());
  auto array = py::array_t<double, py::array::forcecast>::ensure(text ? py::handle() : y);
  if (!array) {
    PyErr_Clear();
    throw py::type_error("IntegratorLearner.tell: the value must be a real number, got " +
                         std::string(py::str(py::type::of(y).attr("__name__"))));
  }
  if (array.ndim() != 0) {
    throw py::type_error(
        "IntegratorLearner.tell: the value must be a real number (the integrand is scalar), got "
        "an array of shape " +
        std::string(py::str(array.attr("shape"))));
  }
  return *array.data();
}

class PyIntegratorLearner {
 public:
  PyIntegratorLearner(py::object function, const py::sequence& bounds, const py::object& tol)
      : function_(std::move(function)), tol_(to_double(tol, "tol")), learner_(make(bounds, tol_)) {
    bounds_ = py::make_tuple(bounds[0], bounds[1]);
  }

  /// python-adaptive raises RuntimeError when fewer than n points can be
  /// given: every interval is either precise or given up.
  py::tuple ask(py::ssize_t n, bool tell_pending) {
    if (n < 0) throw py::value_error("IntegratorLearner.ask: n must be non-negative");
    Proposal<double> p = learner_.propose(static_cast<std::size_t>(n), tell_pending);
    if (p.size() < static_cast<std::size_t>(n)) {
      throw std::runtime_error("No way to improve the integral estimate.");
    }
    return py::make_tuple(float_list(p.points), float_list(p.loss_improvements));
  }

  void tell(const py::object& x, const py::object& y) {
    const double xd = to_double(x, "x");
    const double yd = read_integrand_value(y);
    py::object key = new_float(xd);
    if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) return;
    try {
      translate_errors([&] { learner_.tell(xd, yd); });
    } catch (const DivergentIntegralError&) {
      // The value was taken (as in python-adaptive) before the divergence was found.
      store(key, y, yd);
      throw;
    }
    store(key, y, yd);
  }

  void tell_many(const py::object& xs, const py::object& ys) {
    py::list xl(xs);
    py::list yl(ys);
    if (py::len(xl) != py::len(yl)) {
      throw py::value_error("IntegratorLearner.tell_many: " + std::to_string(py::len(xl)) +
                            " points but " + std::to_string(py::len(yl)) + " values");
    }
    for (std::size_t i = 0; i < py::len(xl); ++i) tell(xl[i], yl[i]);
  }

  void fail(const py::object& x) {
    const double xd = to_double(x, "x");
    py::object key = new_float(xd);
    if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) return;
    translate_errors([&] { learner_.fail(xd); });
  }

  void remove_unfinished() { learner_.remove_unfinished(); }

  double loss(bool) const { return learner_.loss(); }
  double igral() const { return learner_.igral(); }
  double err() const { return learner_.err(); }
  bool done() const { return learner_.done(); }
  std::size_t npoints() const { return learner_.size(); }
  std::size_t max_ivals() const { return learner_.max_intervals(); }
  void set_max_ivals(py::ssize_t n) {
    if (n < 1) throw py::value_error("IntegratorLearner: max_ivals must be at least 1");
    learner_.set_max_intervals(static_cast<std::size_t>(n));
  }

  /// Every node of an interval that has no value yet, asked or still to be
  /// asked (python-adaptive's pending_points).
  py::set pending_points() const {
    const nlohmann::json saved = learner_.save();
    py::set out;
    for (const auto& node : state_payload(saved).at("nodes")) {
      if (!node.at(1).get<bool>()) out.add(new_float(decode<double>(node.at(0))));
    }
    return out;
  }

  /// (a, b, depth, rdepth, igral, err, removed) of the intervals whose
  /// estimates make up igral (python-adaptive's approximating_intervals),
  /// or of those still refined (its ivals).
  py::list intervals(bool approximating) const {
    const nlohmann::json state = learner_.save();
    const nlohmann::json& saved = state_payload(state);
    const auto& all = saved.at("intervals");
    std::vector<std::int32_t> chosen;
    if (approximating) {
      const auto& leaves = all.at(0).at("leaves");
      if (!leaves.is_null()) chosen = leaves.get<std::vector<std::int32_t>>();
    } else {
      chosen = saved.at("active").get<std::vector<std::int32_t>>();
    }
    py::list out;
    for (std::int32_t i : chosen) {
      const auto& iv = all.at(static_cast<std::size_t>(i));
      out.append(py::make_tuple(decode<double>(iv.at("a")), decode<double>(iv.at("b")),
                                iv.at("depth").get<int>(), iv.at("rdepth").get<int>(),
                                decode<double>(iv.at("igral")), decode<double>(iv.at("err")),
                                iv.at("removed").get<bool>()));
    }
    return out;
  }

  /// (npoints, 2): x and value, by x.
  py::array_t<double> to_numpy() const {
    const auto data = learner_.data();
    py::array_t<double> out({static_cast<py::ssize_t>(data.size()), py::ssize_t{2}});
    double* row = out.mutable_data();
    for (const auto& [x, y] : data) {
      row[0] = x;
      row[1] = y;
      row += 2;
    }
    return out;
  }

  py::tuple state() const { return py::make_tuple(learner_.save().dump(), data_); }

  void load_state(const std::string& json, const py::dict& data) {
    translate_errors([&] { learner_.load(nlohmann::json::parse(json)); });
    data_ = data;
  }

  /// Forgets everything: the learner as just constructed.
  void reset() {
    learner_ = IntegratorLearner(learner_.bounds().first, learner_.bounds().second, tol_);
    data_ = py::dict();
  }

  py::object function_;
  py::tuple bounds_;
  double tol_;
  py::dict data_;

 private:
  static IntegratorLearner make(const py::sequence& bounds, double tol) {
    if (py::len(bounds) != 2) {
      throw py::value_error("IntegratorLearner: bounds must be two numbers (a, b), got " +
                            std::to_string(py::len(bounds)) + " values");
    }
    const double a = to_double(bounds[0], "bounds[0]");
    const double b = to_double(bounds[1], "bounds[1]");
    return translate_errors([&] { return IntegratorLearner(a, b, tol); });
  }

  void store(const py::object& key, const py::object& y, double value) {
    py::object stored = PyFloat_CheckExact(y.ptr()) || PyLong_CheckExact(y.ptr())
                            ? py::reinterpret_borrow<py::object>(y)
                            : new_float(value);
    if (PyDict_SetItem(data_.ptr(), key.ptr(), stored.ptr()) != 0) throw py::error_already_set();
  }

  IntegratorLearner learner_;
};

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_integrator_learner, m) {
  using namespace taskmaster::python;
  m.doc() = "IntegratorLearner of the taskmaster package.";
  py::register_exception<taskmaster::DivergentIntegralError>(m, "DivergentIntegralError",
                                                             PyExc_ValueError);
  py::class_<PyIntegratorLearner>(m, "IntegratorLearner", py::dynamic_attr())
      .def(py::init<py::object, const py::sequence&, const py::object&>(), py::arg("function"),
           py::arg("bounds"), py::arg("tol"))
      .def("ask", &PyIntegratorLearner::ask, py::arg("n"), py::arg("tell_pending") = true,
           "ask(n, tell_pending=True) -> (points, loss_improvements): the next n points and the "
           "error of the worst interval each belongs to. RuntimeError when fewer than n can be "
           "given (no interval can be refined any more). With tell_pending=False the learner "
           "is left unchanged.")
      .def("tell", &PyIntegratorLearner::tell, py::arg("point"), py::arg("value"),
           "The value at a point the learner asked (ValueError for any other point). A point "
           "told twice keeps its first value; NaN is left out of the fit. Raises "
           "DivergentIntegralError when the integral diverges.")
      .def("tell_many", &PyIntegratorLearner::tell_many, py::arg("xs"), py::arg("ys"),
           "tell for each pair.")
      .def("_fail", &PyIntegratorLearner::fail, py::arg("x"))
      .def("remove_unfinished", &PyIntegratorLearner::remove_unfinished,
           "Points asked but never told are the first to be asked again.")
      .def("loss", &PyIntegratorLearner::loss, py::arg("real") = true,
           "| |igral| tol - err | (python-adaptive's; not monotone: use done()).")
      .def("done", &PyIntegratorLearner::done,
           "err < tol |igral| (or the error cannot be reduced further).")
      .def_property_readonly("igral", &PyIntegratorLearner::igral,
                             "The estimate of the integral over the bounds.")
      .def_property_readonly("err", &PyIntegratorLearner::err,
                             "The estimated absolute error of igral (inf until known).")
      .def_property_readonly("npoints", &PyIntegratorLearner::npoints, "The number of points told.")
      .def_property("max_ivals", &PyIntegratorLearner::max_ivals,
                    &PyIntegratorLearner::set_max_ivals,
                    "At most this many intervals are refined; beyond, the one with the smallest "
                    "error is given up (default 1000).")
      .def_property_readonly("pending_points", &PyIntegratorLearner::pending_points,
                             "Every node of an interval without a value, asked or not yet (a "
                             "new set on each access).")
      .def("_intervals", &PyIntegratorLearner::intervals, py::arg("approximating"))
      .def("to_numpy", &PyIntegratorLearner::to_numpy,
           "The data as a float array of shape (npoints, 2): x and value, by x.")
      .def("_state", &PyIntegratorLearner::state)
      .def("_load_state", &PyIntegratorLearner::load_state)
      .def("_reset", &PyIntegratorLearner::reset)
      .def_readwrite("function", &PyIntegratorLearner::function_, "The integrand.")
      .def_readonly("bounds", &PyIntegratorLearner::bounds_, "(a, b) as given.")
      .def_readonly("tol", &PyIntegratorLearner::tol_, "The relative tolerance.")
      .def_readonly("data", &PyIntegratorLearner::data_, "x -> value.");
}
