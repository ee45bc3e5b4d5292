// AverageLearner and AverageLearner1D for Python: python-adaptive's interface
// over the C++ learners.
//
// The C++ learners take no randomness: the seeds they ask are a function of
// what was asked and told before (the entropy argument of their ask is
// unused), so ask(n) here is deterministic and needs no entropy source.
// `data` and `pending_points` are Python containers kept in step with the C++
// learner where it is cheap; what only the C++ learner knows (averages,
// errors) is read from it when asked for, and cached until the next change.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <taskmaster/history/codec.hpp>
#include <taskmaster/learners/average_learner.hpp>
#include <taskmaster/learners/average_learner_1d.hpp>

#include "conversions.hpp"
#include "interval_losses.hpp"

namespace taskmaster::python {
namespace {

std::string type_name(py::handle value) {
  return std::string(py::str(py::type::of(value).attr("__name__")));
}

/// An integer (a seed, a count) named `what` in messages. NumPy tables
/// (to_numpy, DataFrames) hold seeds as floats, so floats with an integral
/// value are accepted too.
std::int64_t read_integer(py::handle value, const std::string& what) {
  if (!PyFloat_Check(value.ptr())) {
    if (PyObject* index = PyNumber_Index(value.ptr())) {
      int overflow = 0;
      const long long n = PyLong_AsLongLongAndOverflow(index, &overflow);
      Py_DECREF(index);
      if (overflow != 0) throw py::value_error(what + " does not fit in 64 bits");
      return static_cast<std::int64_t>(n);
    }
    PyErr_Clear();
  }
  const double d = PyFloat_AsDouble(value.ptr());
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(what + " must be an integer, got " + type_name(value));
  }
  // 2^63: the first double beyond int64.
  if (std::trunc(d) != d || std::fabs(d) >= 9223372036854775808.0) {
    throw py::value_error(what + " must be an integer, got " + py::repr(value).cast<std::string>());
  }
  return static_cast<std::int64_t>(d);
}

/// A told value: a real number (python-adaptive's averaging learners average
/// scalars). None gets python-adaptive's message.
double read_value(py::handle y, const std::string& where) {
  if (y.is_none()) {
    throw py::type_error(where +
                         ": Y-value may not be None, use learner.tell_pending(x) to indicate "
                         "that this value is currently being calculated");
  }
  if (PyFloat_Check(y.ptr())) return PyFloat_AS_DOUBLE(y.ptr());
  if (PyLong_Check(y.ptr())) return to_double(y, where.c_str());
  // A NumPy scalar or 0-d array is a number; arrays with more are not, and
  // text is not (NumPy would parse it).
  const bool text = PyUnicode_Check(y.ptr()) || PyBytes_Check(y.ptr());
  auto array = py::array_t<double, py::array::forcecast>::ensure(text ? py::handle() : y);
  if (!array) {
    PyErr_Clear();
    throw py::type_error(where + ": the value must be a real number, got " + type_name(y));
  }
  if (array.ndim() != 0) {
    throw py::type_error(
        where + ": the value must be a real number (this learner averages scalars), got " +
        type_name(y) + " of shape " + py::str(array.attr("shape")).cast<std::string>());
  }
  return *array.data();
}

/// What python-adaptive keeps in `data`: ints and floats as they are, other
/// numbers (NumPy scalars) as floats.
py::object stored_value(py::handle y, double value) {
  if (PyFloat_CheckExact(y.ptr()) || PyLong_CheckExact(y.ptr())) {
    return py::reinterpret_borrow<py::object>(y);
  }
  return new_float(value);
}

std::size_t read_count(py::ssize_t n) {
  if (n < 0) throw py::value_error("ask: n must be non-negative, got " + std::to_string(n));
  return static_cast<std::size_t>(n);
}

/// Both sequences as lists of equal length (ValueError otherwise).
std::pair<py::list, py::list> paired(const py::object& xs, const py::object& ys,
                                     const char* where) {
  py::list xl(xs);
  py::list yl(ys);
  if (py::len(xl) != py::len(yl)) {
    throw py::value_error(std::string(where) + ": " + std::to_string(py::len(xl)) + " points but " +
                          std::to_string(py::len(yl)) + " values");
  }
  return {std::move(xl), std::move(yl)};
}

// --- AverageLearner -----------------------------------------------------------

class PyAverageLearner {
 public:
  PyAverageLearner(py::object function, const py::object& atol, const py::object& rtol,
                   const py::object& min_npoints)
      : function_(std::move(function)),
        atol_(read_tolerance(atol, rtol, atol)),
        rtol_(read_tolerance(atol, rtol, rtol)),
        min_npoints_(read_min_npoints(min_npoints)),
        learner_(make()) {}

  py::tuple ask(py::ssize_t count, bool tell_pending) {
    const std::size_t n = read_count(count);
    // The lowest free seeds, with the loss improvements, without marking.
    Proposal<std::uint64_t> p = learner_.propose(n, false);
    // python-adaptive takes the n seeds from n_requested on when they are all
    // free, which differs from the lowest free seeds only when there are gaps
    // (remove_unfinished after results came back out of order).
    const std::uint64_t requested = n_requested();
    bool lowest = true;
    for (std::size_t i = 0; i < n && lowest; ++i) lowest = p.points[i] == requested + i;
    if (!lowest && block_of_free(requested, n)) {
      for (std::size_t i = 0; i < n; ++i) p.points[i] = requested + i;
      if (tell_pending) {
        for (std::uint64_t seed : p.points) learner_.tell_pending(seed);
      }
    } else if (tell_pending) {
      // The C++ learner takes the lowest free seeds itself, keeping its
      // bookkeeping compact (no seeds marked ahead of its counter).
      learner_.propose(n, true);
    }
    py::list points(n);
    for (std::size_t i = 0; i < n; ++i) {
      py::object seed = py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(p.points[i]));
      if (tell_pending && PySet_Add(pending_.ptr(), seed.ptr()) != 0) throw py::error_already_set();
      PyList_SET_ITEM(points.ptr(), static_cast<Py_ssize_t>(i), seed.release().ptr());
    }
    return py::make_tuple(points, float_list(p.loss_improvements));
  }

  void tell(const py::object& seed, const py::object& y) {
    const std::uint64_t s = read_nonnegative_seed(seed, "AverageLearner.tell");
    tell_value(s, y, read_value(y, "AverageLearner.tell"));
  }

  void tell_many(const py::object& seeds, const py::object& ys) {
    auto [sl, yl] = paired(seeds, ys, "AverageLearner.tell_many");
    // Everything is read before anything is told: bad input changes nothing.
    std::vector<std::uint64_t> s(py::len(sl));
    std::vector<double> v(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      s[i] = read_nonnegative_seed(sl[i], "AverageLearner.tell_many");
      v[i] = read_value(yl[i], "AverageLearner.tell_many");
    }
    for (std::size_t i = 0; i < s.size(); ++i) tell_value(s[i], yl[i], v[i]);
  }

  void tell_pending(const py::object& seed) {
    const std::uint64_t s = read_nonnegative_seed(seed, "AverageLearner.tell_pending");
    py::object key = py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(s));
    if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) return;
    learner_.tell_pending(s);
    if (PySet_Add(pending_.ptr(), key.ptr()) != 0) throw py::error_already_set();
  }

  void fail(const py::object& seed) {
    const std::uint64_t s = read_nonnegative_seed(seed, "AverageLearner._fail");
    py::object key = py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(s));
    learner_.fail(s);
    if (PySet_Discard(pending_.ptr(), key.ptr()) < 0) throw py::error_already_set();
  }

  void remove_unfinished() {
    learner_.remove_unfinished();
    PySet_Clear(pending_.ptr());
  }

  double loss(bool real, std::optional<py::ssize_t> n) const {
    if (!n) return real ? learner_.loss() : learner_.pending_loss();
    if (*n < 0) throw py::value_error("AverageLearner.loss: n must be non-negative");
    return loss_with(static_cast<std::size_t>(*n));
  }

  double mean() const { return learner_.mean(); }
  double standard_deviation() const { return learner_.standard_deviation(); }
  std::size_t npoints() const { return static_cast<std::size_t>(PyDict_Size(data_.ptr())); }
  std::size_t n_requested() const {
    return npoints() + static_cast<std::size_t>(PySet_GET_SIZE(pending_.ptr()));
  }
  std::size_t nonfinite() const { return learner_.nonfinite_count(); }
  py::set pending_points() const {
    return py::reinterpret_steal<py::set>(PySet_New(pending_.ptr()));
  }

  /// (npoints, 2): seed and value, by seed.
  py::array_t<double> to_numpy() const {
    const auto data = learner_.data();
    py::array_t<double> out({static_cast<py::ssize_t>(data.size()), py::ssize_t{2}});
    double* row = out.mutable_data();
    for (const auto& [seed, y] : data) {
      row[0] = static_cast<double>(seed);
      row[1] = y;
      row += 2;
    }
    return out;
  }

  py::tuple state() const {
    return py::make_tuple(learner_.save().dump(), data_, pending_points());
  }

  void load_state(const std::string& json, const py::dict& data, const py::set& pending) {
    translate_errors([&] { learner_.load(nlohmann::json::parse(json)); });
    data_ = data;
    pending_ = py::reinterpret_steal<py::set>(PySet_New(pending.ptr()));
  }

  /// Forgets everything: the learner as just constructed.
  void reset() {
    learner_ = make();
    data_ = py::dict();
    pending_ = py::set();
  }

  py::object function_;
  double atol_;
  double rtol_;
  std::size_t min_npoints_;
  py::dict data_;

 private:
  /// A tolerance not given is infinite, as in python-adaptive.
  static double read_tolerance(const py::object& atol, const py::object& rtol,
                               const py::object& value) {
    if (atol.is_none() && rtol.is_none()) {
      throw py::value_error("AverageLearner: at least one of `atol` and `rtol` should be set");
    }
    if (value.is_none()) return std::numeric_limits<double>::infinity();
    return to_double(value, value.is(atol) ? "atol" : "rtol");
  }

  static std::size_t read_min_npoints(const py::object& value) {
    const std::int64_t n = read_integer(value, "AverageLearner: min_npoints");
    return static_cast<std::size_t>(std::max<std::int64_t>(n, 2));
  }

  // An infinite tolerance is what the C++ learner makes of one not given.
  AverageLearner make() const {
    return translate_errors([&] { return AverageLearner(atol_, rtol_, min_npoints_); });
  }

  static std::uint64_t read_nonnegative_seed(py::handle value, const char* where) {
    const std::int64_t seed = read_integer(value, std::string(where) + ": the seed");
    if (seed < 0) {
      throw py::value_error(std::string(where) + ": seeds are non-negative integers, got " +
                            std::to_string(seed));
    }
    return static_cast<std::uint64_t>(seed);
  }

  /// A seed told twice keeps its first value, as in python-adaptive.
  void tell_value(std::uint64_t s, const py::handle& y, double value) {
    py::object key = py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(s));
    if (PyDict_Contains(data_.ptr(), key.ptr()) == 1) return;
    learner_.tell(s, value);
    if (PyDict_SetItem(data_.ptr(), key.ptr(), stored_value(y, value).ptr()) != 0) {
      throw py::error_already_set();
    }
    if (PySet_Discard(pending_.ptr(), key.ptr()) < 0) throw py::error_already_set();
  }

  bool block_of_free(std::uint64_t first, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) {
      if (taken(first + i)) return false;
    }
    return true;
  }

  bool taken(std::uint64_t seed) const {
    py::object key = py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(seed));
    return PyDict_Contains(data_.ptr(), key.ptr()) == 1 ||
           PySet_Contains(pending_.ptr(), key.ptr()) == 1;
  }

  /// The C++ learner's loss for n samples at the present spread and mean.
  double loss_with(std::size_t n) const {
    const double inf = std::numeric_limits<double>::infinity();
    if (n < min_npoints_) return inf;
    const double error = learner_.standard_deviation() / std::sqrt(static_cast<double>(n));
    if (!std::isfinite(error)) return inf;
    if (error == 0) return 0.0;
    const double relative = std::isinf(rtol_) ? 0.0 : error / (std::fabs(learner_.mean()) * rtol_);
    return std::max(error / atol_, relative);
  }

  AverageLearner learner_;
  py::set pending_;
};

// --- AverageLearner1D ---------------------------------------------------------

class PyAverageLearner1D {
  using Point = AverageLearner1D::input_type;

 public:
  PyAverageLearner1D(py::object function, const py::sequence& bounds, py::object loss_per_interval,
                     const std::optional<std::string>& native_name, const py::dict& native_params,
                     std::size_t nth_neighbors, double delta, double alpha,
                     double neighbor_sampling, const py::object& min_samples,
                     const py::object& max_samples, double min_error)
      : function_(std::move(function)),
        loss_object_(std::move(loss_per_interval)),
        nth_neighbors_(nth_neighbors),
        delta_(delta),
        alpha_(alpha),
        neighbor_sampling_(neighbor_sampling),
        min_samples_(read_samples(min_samples, "min_samples")),
        max_samples_(read_samples(max_samples, "max_samples")),
        min_error_(min_error),
        loss_(native_name ? native_interval_loss(*native_name, native_params)
                          : python_interval_loss(loss_object_, nth_neighbors)),
        learner_(make(bounds)) {
    bounds_ = py::make_tuple(learner_.curve().lower_bound(), learner_.curve().upper_bound());
  }

  py::tuple ask(py::ssize_t count, bool tell_pending) {
    const std::size_t n = read_count(count);
    Proposal<Point> p = translate_errors([&] { return learner_.propose(n, tell_pending); });
    py::list points(p.points.size());
    for (std::size_t i = 0; i < p.points.size(); ++i) {
      py::tuple point = point_object(p.points[i]);
      if (tell_pending && PySet_Add(pending_.ptr(), point.ptr()) != 0)
        throw py::error_already_set();
      PyList_SET_ITEM(points.ptr(), static_cast<Py_ssize_t>(i), point.release().ptr());
    }
    if (tell_pending && n > 0) ++version_;
    return py::make_tuple(points, float_list(p.loss_improvements));
  }

  void tell(const py::object& seed_x, const py::object& y) {
    const Point p = read_point(seed_x, "AverageLearner1D.tell");
    const double value = read_value(y, "AverageLearner1D.tell");
    tell_point(p, value);
  }

  /// python-adaptive's order: the samples grouped by x, the x in order of
  /// first appearance, a (seed, x) given twice with its last value.
  void tell_many(const py::object& xs, const py::object& ys) {
    auto [xl, yl] = paired(xs, ys, "AverageLearner1D.tell_many");
    std::vector<double> order;
    std::unordered_map<double, std::vector<std::pair<std::int64_t, double>>> groups;
    const double a = learner_.curve().lower_bound();
    const double b = learner_.curve().upper_bound();
    for (std::size_t i = 0; i < py::len(xl); ++i) {
      const Point p = read_point(xl[i], "AverageLearner1D.tell_many");
      const double value = read_value(yl[i], "AverageLearner1D.tell_many");
      if (!(p.second >= a && p.second <= b)) {
        throw py::value_error(
            "AverageLearner1D.tell_many: x value out of bounds, remove x or enlarge the bounds of "
            "the "
            "learner (x = " +
            py::repr(new_float(p.second)).cast<std::string>() + ")");
      }
      auto [it, inserted] = groups.try_emplace(p.second);
      if (inserted) order.push_back(p.second);
      auto& samples = it->second;
      auto same = std::find_if(samples.begin(), samples.end(),
                               [&](const auto& s) { return s.first == p.first; });
      if (same == samples.end()) {
        samples.emplace_back(p.first, value);
      } else {
        same->second = value;
      }
    }
    for (double x : order) {
      for (const auto& [seed, value] : groups[x]) tell_point({seed, x}, value);
    }
  }

  void tell_many_at_point(const py::object& x, const py::dict& seed_y_mapping) {
    const double xd = to_double(x, "x");
    if (!(xd >= learner_.curve().lower_bound() && xd <= learner_.curve().upper_bound())) {
      throw py::value_error(
          "AverageLearner1D.tell_many_at_point: x value out of bounds, remove x or enlarge the "
          "bounds of the learner (x = " +
          py::repr(x).cast<std::string>() + ")");
    }
    std::vector<std::pair<std::int64_t, double>> samples;
    samples.reserve(py::len(seed_y_mapping));
    for (auto [seed, y] : seed_y_mapping) {
      samples.emplace_back(read_integer(seed, "AverageLearner1D.tell_many_at_point: the seed"),
                           read_value(y, "AverageLearner1D.tell_many_at_point"));
    }
    for (const auto& [seed, value] : samples) tell_point({seed, xd}, value);
  }

  void tell_pending(const py::object& seed_x) {
    const Point p = read_point(seed_x, "AverageLearner1D.tell_pending");
    translate_errors([&] { learner_.tell_pending(p); });
    py::tuple point = point_object(p);
    if (PySet_Add(pending_.ptr(), point.ptr()) != 0) throw py::error_already_set();
    ++version_;
  }

  void fail(const py::object& seed_x) {
    const Point p = read_point(seed_x, "AverageLearner1D._fail");
    translate_errors([&] { learner_.fail(p); });
    py::tuple point = point_object(p);
    if (PySet_Discard(pending_.ptr(), point.ptr()) < 0) throw py::error_already_set();
    ++version_;
  }

  void remove_unfinished() {
    learner_.remove_unfinished();
    PySet_Clear(pending_.ptr());
    ++version_;
  }

  double loss(bool real) const { return real ? learner_.loss() : learner_.pending_loss(); }

  py::set pending_points() const {
    return py::reinterpret_steal<py::set>(PySet_New(pending_.ptr()));
  }
  std::size_t npoints() const { return learner_.size(); }
  std::uint64_t nsamples() const { return learner_.samples(); }
  std::uint64_t nan_samples() const { return learner_.nan_samples(); }

  std::uint64_t min_samples_per_point() const {
    std::uint64_t least = 0;
    bool first = true;
    for (const auto& [x, mean] : learner_.data()) {
      const std::uint64_t n = learner_.samples_at(x);
      least = first ? n : std::min(least, n);
      first = false;
    }
    return least;
  }

  /// x -> average, in increasing x.
  const py::dict& data() {
    refresh();
    return data_cache_;
  }

  /// x -> half-width of the confidence interval, largest first (as
  /// python-adaptive's sorted dict iterates).
  const py::dict& error() {
    refresh();
    return error_cache_;
  }

  /// x -> error / distance to the nearest neighbour, for the points that
  /// may still be resampled, largest first.
  py::dict rescaled_error() const {
    const nlohmann::json saved = learner_.save();
    std::vector<std::pair<double, double>> entries;
    for (const auto& point : state_payload(saved).at("points")) {
      if (auto r = decode<std::optional<double>>(point.at("rescaled_error"))) {
        entries.emplace_back(decode<double>(point.at("x")), *r);
      }
    }
    return sorted_decreasing(entries);
  }

  /// x -> {seed: sample}, in increasing x and seed.
  py::dict data_samples() const {
    py::dict out;
    for (const auto& [x, mean] : learner_.data()) {
      py::dict samples;
      for (const auto& [seed, y] : learner_.samples_of(x)) {
        samples[py::int_(seed)] = new_float(y);
      }
      out[new_float(x)] = samples;
    }
    return out;
  }

  py::dict number_samples() const {
    py::dict out;
    for (const auto& [x, mean] : learner_.data())
      out[new_float(x)] = py::int_(learner_.samples_at(x));
    return out;
  }

  /// mean: (npoints, 2) of x and average; else (nsamples, 3) of seed, x and
  /// sample, by x and then by seed.
  py::array_t<double> to_numpy(bool mean) const {
    const auto data = learner_.data();
    if (mean) {
      py::array_t<double> out({static_cast<py::ssize_t>(data.size()), py::ssize_t{2}});
      double* row = out.mutable_data();
      for (const auto& [x, y] : data) {
        row[0] = x;
        row[1] = y;
        row += 2;
      }
      return out;
    }
    py::array_t<double> out({static_cast<py::ssize_t>(learner_.samples()), py::ssize_t{3}});
    double* row = out.mutable_data();
    for (const auto& [x, average] : data) {
      for (const auto& [seed, y] : learner_.samples_of(x)) {
        row[0] = static_cast<double>(seed);
        row[1] = x;
        row[2] = y;
        row += 3;
      }
    }
    return out;
  }

  /// The C++ learner's state and the pending samples, which its JSON leaves out.
  py::tuple state() const { return py::make_tuple(learner_.save().dump(), py::list(pending_)); }

  void load_state(const std::string& json, const py::list& pending) {
    std::vector<Point> points;
    for (auto p : pending) points.push_back(read_point(p, "AverageLearner1D state"));
    translate_errors([&] {
      learner_.load(nlohmann::json::parse(json));
      // The seeds in flight, so that they are not asked again.
      for (const Point& p : points) learner_.tell_pending(p);
    });
    PySet_Clear(pending_.ptr());
    for (const Point& p : points) {
      if (PySet_Add(pending_.ptr(), point_object(p).ptr()) != 0) throw py::error_already_set();
    }
    ++version_;
  }

  py::object function_;
  py::object loss_object_;
  std::size_t nth_neighbors_;
  py::tuple bounds_;
  double delta_;
  double alpha_;
  double neighbor_sampling_;
  std::uint64_t min_samples_;
  std::uint64_t max_samples_;
  double min_error_;

 private:
  static std::uint64_t read_samples(const py::object& value, const char* name) {
    const std::int64_t n = read_integer(value, std::string("AverageLearner1D: ") + name);
    if (n < 0) {
      throw py::value_error(std::string("AverageLearner1D: ") + name + " should be positive, got " +
                            std::to_string(n));
    }
    return static_cast<std::uint64_t>(n);
  }

  AverageLearner1D make(const py::sequence& bounds) const {
    if (py::len(bounds) != 2) {
      throw py::value_error("AverageLearner1D: bounds must be two numbers (a, b), got " +
                            std::to_string(py::len(bounds)) + " values");
    }
    AverageLearner1DOptions o;
    o.delta = delta_;
    o.alpha = alpha_;
    o.neighbor_sampling = neighbor_sampling_;
    // python-adaptive accepts 0, which acts as 1: a point's sample count is
    // compared with min_samples only from its second sample on.
    o.min_samples = std::max<std::uint64_t>(min_samples_, 1);
    o.max_samples = max_samples_;
    o.min_error = min_error_;
    const double a = to_double(bounds[0], "bounds[0]");
    const double b = to_double(bounds[1], "bounds[1]");
    return translate_errors([&] { return AverageLearner1D(a, b, o, loss_); });
  }

  static Point read_point(py::handle seed_x, const char* where) {
    if (!PySequence_Check(seed_x.ptr()) || PyUnicode_Check(seed_x.ptr())) {
      throw py::type_error(std::string(where) + ": a point is a pair (seed, x), got " +
                           type_name(seed_x));
    }
    py::sequence pair = py::reinterpret_borrow<py::sequence>(seed_x);
    if (py::len(pair) != 2) {
      throw py::value_error(std::string(where) + ": a point is a pair (seed, x), got " +
                            std::to_string(py::len(pair)) + " values");
    }
    const std::int64_t seed = read_integer(pair[0], std::string(where) + ": the seed");
    const double x = to_double(pair[1], "x");
    if (std::isnan(x)) throw py::value_error(std::string(where) + ": x is NaN");
    return {seed, x};
  }

  static py::tuple point_object(const Point& p) {
    return py::make_tuple(py::int_(p.first), new_float(p.second));
  }

  void tell_point(const Point& p, double value) {
    translate_errors([&] { learner_.tell(p, value); });
    py::tuple point = point_object(p);
    if (PySet_Discard(pending_.ptr(), point.ptr()) < 0) throw py::error_already_set();
    ++version_;
  }

  static py::dict sorted_decreasing(std::vector<std::pair<double, double>>& entries) {
    // NaN sorts as the largest, as the C++ learner orders it.
    auto key = [](double v) { return std::isnan(v) ? std::numeric_limits<double>::infinity() : v; };
    std::stable_sort(entries.begin(), entries.end(),
                     [&](const auto& l, const auto& r) { return key(l.second) > key(r.second); });
    py::dict out;
    for (const auto& [x, v] : entries) out[new_float(x)] = new_float(v);
    return out;
  }

  void refresh() {
    if (cached_version_ == version_) return;
    py::dict data;
    std::vector<std::pair<double, double>> errors;
    for (const auto& [x, mean] : learner_.data()) {
      data[new_float(x)] = new_float(mean);
      errors.emplace_back(x, learner_.error(x));
    }
    data_cache_ = std::move(data);
    error_cache_ = sorted_decreasing(errors);
    cached_version_ = version_;
  }

  IntervalLoss loss_;
  AverageLearner1D learner_;
  py::set pending_;
  std::uint64_t version_ = 0;
  std::uint64_t cached_version_ = std::numeric_limits<std::uint64_t>::max();
  py::dict data_cache_;
  py::dict error_cache_;
};

}  // namespace
}  // namespace taskmaster::python

PYBIND11_MODULE(_average_learners, m) {
  using namespace taskmaster::python;
  m.doc() = "AverageLearner and AverageLearner1D of the taskmaster package.";

  py::class_<PyAverageLearner>(m, "AverageLearner", py::dynamic_attr())
      .def(py::init<py::object, const py::object&, const py::object&, const py::object&>(),
           py::arg("function"), py::arg("atol") = py::none(), py::arg("rtol") = py::none(),
           py::arg("min_npoints") = 2)
      .def("ask", &PyAverageLearner::ask, py::arg("n"), py::arg("tell_pending") = true,
           "ask(n, tell_pending=True) -> (seeds, loss_improvements): the next n seeds to sample "
           "and the loss improvement expected from each; marked pending unless tell_pending is "
           "False.")
      .def("tell", &PyAverageLearner::tell, py::arg("n"), py::arg("value"),
           "The value at seed n. A seed told twice keeps its first value.")
      .def("tell_many", &PyAverageLearner::tell_many, py::arg("xs"), py::arg("ys"),
           "tell for each pair; everything is checked before anything is told.")
      .def("tell_pending", &PyAverageLearner::tell_pending, py::arg("n"),
           "Marks seed n as being evaluated, so it is not asked.")
      .def("_fail", &PyAverageLearner::fail, py::arg("n"))
      .def("remove_unfinished", &PyAverageLearner::remove_unfinished,
           "Forgets the pending seeds: the lowest free seeds are asked again.")
      .def("loss", &PyAverageLearner::loss, py::arg("real") = true, py::kw_only(),
           py::arg("n") = py::none(),
           "The standard error of the mean over the tolerance: max(stderr / atol, stderr / "
           "(rtol |mean|)); infinite below min_npoints samples. With real=False the pending "
           "seeds count as samples; with n, the loss n samples would give at the present spread.")
      .def_property_readonly("mean", &PyAverageLearner::mean,
                             "The mean of the finite values (NaN before the first).")
      .def_property_readonly("std", &PyAverageLearner::standard_deviation,
                             "The sample standard deviation; infinite below min_npoints samples.")
      .def_property_readonly("npoints", &PyAverageLearner::npoints, "The number of seeds told.")
      .def_property_readonly("n_requested", &PyAverageLearner::n_requested,
                             "npoints plus the number of pending seeds.")
      .def_property_readonly("nonfinite_count", &PyAverageLearner::nonfinite,
                             "The values told that were NaN or infinite (left out of the mean).")
      .def_property_readonly("pending_points", &PyAverageLearner::pending_points,
                             "The pending seeds (a new set on each access).")
      .def("to_numpy", &PyAverageLearner::to_numpy,
           "The data as a float array of shape (npoints, 2): seed and value, by seed.")
      .def("_state", &PyAverageLearner::state)
      .def("_load_state", &PyAverageLearner::load_state)
      .def("_reset", &PyAverageLearner::reset)
      .def_readwrite("function", &PyAverageLearner::function_, "The function of a seed.")
      .def_readonly("atol", &PyAverageLearner::atol_, "The absolute tolerance (inf if not given).")
      .def_readonly("rtol", &PyAverageLearner::rtol_, "The relative tolerance (inf if not given).")
      .def_readonly("min_npoints", &PyAverageLearner::min_npoints_,
                    "Samples needed before the loss is finite (at least 2).")
      .def_readonly("data", &PyAverageLearner::data_, "seed -> value.");

  py::class_<PyAverageLearner1D>(m, "AverageLearner1D", py::dynamic_attr())
      .def(py::init<py::object, const py::sequence&, py::object, const std::optional<std::string>&,
                    const py::dict&, std::size_t, double, double, double, const py::object&,
                    const py::object&, double>(),
           py::arg("function"), py::arg("bounds"), py::arg("loss_per_interval"),
           py::arg("native_name"), py::arg("native_params"), py::arg("nth_neighbors"),
           py::arg("delta"), py::arg("alpha"), py::arg("neighbor_sampling"), py::arg("min_samples"),
           py::arg("max_samples"), py::arg("min_error"))
      .def("ask", &PyAverageLearner1D::ask, py::arg("n"), py::arg("tell_pending") = true,
           "ask(n, tell_pending=True) -> (points, loss_improvements): n samples (seed, x), "
           "either more samples of the point that needs them most or of a new point, and the "
           "loss improvement expected from each; marked pending unless tell_pending is False.")
      .def("tell", &PyAverageLearner1D::tell, py::arg("seed_x"), py::arg("y"),
           "The sample y at the point (seed, x). A sample told twice keeps its first value; NaN "
           "is counted in nan_samples and left out of the average.")
      .def("tell_many", &PyAverageLearner1D::tell_many, py::arg("xs"), py::arg("ys"),
           "Many samples, grouped by x as python-adaptive does; ValueError (and nothing told) if "
           "an x lies outside the bounds.")
      .def("tell_many_at_point", &PyAverageLearner1D::tell_many_at_point, py::arg("x"),
           py::arg("seed_y_mapping"), "The samples {seed: y} at x.")
      .def("tell_pending", &PyAverageLearner1D::tell_pending, py::arg("seed_x"),
           "Marks the sample (seed, x) as being evaluated.")
      .def("_fail", &PyAverageLearner1D::fail, py::arg("seed_x"))
      .def("remove_unfinished", &PyAverageLearner1D::remove_unfinished,
           "Forgets the pending samples.")
      .def("loss", &PyAverageLearner1D::loss, py::arg("real") = true,
           "The largest interval loss of the curve of averages (with real=False, counting "
           "pending points).")
      .def_property_readonly("pending_points", &PyAverageLearner1D::pending_points,
                             "The pending samples (seed, x) (a new set on each access).")
      .def_property_readonly("npoints", &PyAverageLearner1D::npoints,
                             "The number of distinct x with a sample.")
      .def_property_readonly("nsamples", &PyAverageLearner1D::nsamples,
                             "The number of samples over all x (NaN samples not counted).")
      .def_property_readonly("nan_samples", &PyAverageLearner1D::nan_samples,
                             "The samples that were NaN.")
      .def_property_readonly("min_samples_per_point", &PyAverageLearner1D::min_samples_per_point,
                             "The fewest samples at any x (0 without data).")
      .def_property_readonly("data", &PyAverageLearner1D::data,
                             "x -> average of its samples, by x (read-only view).")
      .def_property_readonly("error", &PyAverageLearner1D::error,
                             "x -> half-width of the confidence interval of its average, "
                             "largest first (read-only view).")
      .def_property_readonly("rescaled_error", &PyAverageLearner1D::rescaled_error,
                             "x -> error / distance to the nearest neighbour, for the points "
                             "that may still be resampled, largest first (a snapshot).")
      .def_property_readonly("_data_samples", &PyAverageLearner1D::data_samples,
                             "x -> {seed: sample} (a snapshot).")
      .def_property_readonly("_number_samples", &PyAverageLearner1D::number_samples,
                             "x -> number of samples (a snapshot).")
      .def("to_numpy", &PyAverageLearner1D::to_numpy, py::arg("mean") = false,
           "mean=False: float array (nsamples, 3) of seed, x, sample, by x and seed; mean=True: "
           "(npoints, 2) of x and average.")
      .def("_state", &PyAverageLearner1D::state)
      .def("_load_state", &PyAverageLearner1D::load_state)
      .def_readwrite("function", &PyAverageLearner1D::function_, "The function of (seed, x).")
      .def_readonly("loss_per_interval", &PyAverageLearner1D::loss_object_)
      .def_readonly("nth_neighbors", &PyAverageLearner1D::nth_neighbors_)
      .def_readonly("bounds", &PyAverageLearner1D::bounds_)
      .def_readonly("delta", &PyAverageLearner1D::delta_)
      .def_readonly("alpha", &PyAverageLearner1D::alpha_)
      .def_readonly("neighbor_sampling", &PyAverageLearner1D::neighbor_sampling_)
      .def_readonly("min_samples", &PyAverageLearner1D::min_samples_)
      .def_readonly("max_samples", &PyAverageLearner1D::max_samples_)
      .def_readonly("min_error", &PyAverageLearner1D::min_error_);
}
