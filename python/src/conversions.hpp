#pragma once
// Conversions between Python objects and the library's types, shared by every
// learner binding: numbers, points, outputs, and the JSON the learners save.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <taskmaster/learners/saved_state.hpp>

namespace taskmaster::python {

namespace py = pybind11;

/// A Python number as a double; a TypeError naming `what` otherwise.
inline double to_double(py::handle value, const char* what) {
  if (PyFloat_CheckExact(value.ptr())) return PyFloat_AS_DOUBLE(value.ptr());
  const double d = PyFloat_AsDouble(value.ptr());
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(std::string(what) + " must be a real number, got " +
                         std::string(py::str(py::type::of(value).attr("__name__"))));
  }
  return d;
}

/// A new Python float (owned reference wrapped in py::object).
inline py::object new_float(double d) {
  return py::reinterpret_steal<py::object>(PyFloat_FromDouble(d));
}

/// A list of Python floats.
inline py::list float_list(const std::vector<double>& values) {
  py::list out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), PyFloat_FromDouble(values[i]));
  }
  return out;
}

/// An output value as python-adaptive keeps it: Python ints and floats as
/// they are, anything else as a float NumPy array.
struct Output {
  py::object stored;  // what goes into `learner.data`
  bool scalar = true;
  double first = 0.0;          // the value, or the first component
  std::vector<double> values;  // the components, flattened (arrays only)

  [[nodiscard]] std::size_t size() const { return scalar ? 1 : values.size(); }
  [[nodiscard]] std::vector<double> components() const {
    return scalar ? std::vector<double>{first} : values;
  }
};

inline Output read_output(py::handle y, const char* where) {
  if (y.is_none()) {
    throw py::type_error(std::string(where) +
                         ": the value may not be None; use tell_pending(x) to say that "
                         "it is being computed");
  }
  Output out;
  if (PyFloat_Check(y.ptr()) || PyLong_Check(y.ptr())) {
    out.stored = py::reinterpret_borrow<py::object>(y);
    out.first = to_double(y, where);
    return out;
  }
  auto array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(y);
  if (!array) {
    PyErr_Clear();
    throw py::type_error(std::string(where) +
                         ": the value must be a number or an array of numbers, got " +
                         std::string(py::str(py::type::of(y).attr("__name__"))));
  }
  if (array.size() == 0) {
    throw py::value_error(std::string(where) + ": the value is an empty array");
  }
  out.first = *array.data();
  out.scalar = array.ndim() == 0;
  if (out.scalar) {
    out.stored = new_float(out.first);
  } else {
    out.stored = array;
    out.values.assign(array.data(), array.data() + array.size());
  }
  return out;
}

/// A C++ output (flat components) as a Python value: a float for one
/// scalar component, else a 1-D float array.
inline py::object output_object(const double* values, std::size_t n, bool scalar) {
  if (scalar) return new_float(values[0]);
  py::array_t<double> array(static_cast<py::ssize_t>(n));
  std::copy(values, values + n, array.mutable_data());
  return array;
}

/// Rethrows a library error as the exception python-adaptive raises in the
/// same situation (pybind11 maps std::invalid_argument to ValueError itself;
/// logic errors are ValueErrors too). A state that cannot be loaded raises
/// taskmaster.StateError, a ValueError.
template <class F>
decltype(auto) translate_errors(F&& f) {
  try {
    return f();
  } catch (const StateError& e) {
    const py::object type =
        py::module_::import("taskmaster.learner.base_learner").attr("StateError");
    PyErr_SetString(type.ptr(), e.what());
    throw py::error_already_set();
  } catch (const std::logic_error& e) {
    throw py::value_error(e.what());
  } catch (const nlohmann::json::exception& e) {
    throw py::value_error(std::string("malformed learner state: ") + e.what());
  }
}

}  // namespace taskmaster::python
