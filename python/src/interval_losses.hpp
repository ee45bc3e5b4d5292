#pragma once
// Learner1D's interval losses as the Python side names them: a built-in
// loss by the name and parameters taskmaster.learner.learner1D.native_spec
// recognised, or a Python callable with python-adaptive's signature
// loss(xs, ys). Shared by Learner1D and AverageLearner1D.

#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <utility>

#include <taskmaster/learners/learner_1d_losses.hpp>

#include "conversions.hpp"

namespace taskmaster::python {

/// A built-in loss by the name and parameters the Python side recognised.
inline IntervalLoss native_interval_loss(const std::string& name, const py::dict& params) {
  auto param = [&](const char* key, double fallback) {
    return params.contains(key) ? to_double(params[key], key) : fallback;
  };
  if (name == "uniform") return losses_1d::uniform();
  if (name == "default") return losses_1d::distance();
  if (name == "abs_min_log") return losses_1d::abs_min_log();
  if (name == "triangle") return losses_1d::triangle();
  if (name == "curvature") {
    return losses_1d::curvature(param("area_factor", 1.0), param("euclid_factor", 0.02),
                                param("horizontal_factor", 0.02));
  }
  if (name == "resolution") {
    return losses_1d::resolution(param("min_length", 0.0), param("max_length", 1.0));
  }
  throw py::value_error("unknown Learner1D loss: " + name);
}

/// A loss written in Python with python-adaptive's signature loss(xs, ys):
/// xs and ys hold 2 * nth_neighbors + 2 scaled points, None where a
/// neighbour does not exist; ys are floats, or arrays for vector outputs.
inline IntervalLoss python_interval_loss(py::object function, std::size_t nth_neighbors) {
  IntervalLoss loss;
  loss.name = "python";
  loss.nth_neighbors = nth_neighbors;
  loss.evaluate = [function = std::move(function)](const IntervalNeighborhood& n) {
    const std::size_t size = n.size();
    py::tuple xs(size);
    py::tuple ys(size);
    const bool scalar = n.components() == 1;
    for (std::size_t i = 0; i < size; ++i) {
      if (!n.has(i)) {
        PyTuple_SET_ITEM(xs.ptr(), static_cast<Py_ssize_t>(i), Py_NewRef(Py_None));
        PyTuple_SET_ITEM(ys.ptr(), static_cast<Py_ssize_t>(i), Py_NewRef(Py_None));
        continue;
      }
      PyTuple_SET_ITEM(xs.ptr(), static_cast<Py_ssize_t>(i), PyFloat_FromDouble(n.x(i)));
      auto y = n.y(i);
      py::object value = output_object(y.data(), y.size(), scalar);
      PyTuple_SET_ITEM(ys.ptr(), static_cast<Py_ssize_t>(i), value.release().ptr());
    }
    return to_double(function(xs, ys), "the value returned by the loss function");
  };
  return loss;
}

}  // namespace taskmaster::python
