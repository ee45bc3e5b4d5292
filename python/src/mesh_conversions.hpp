#pragma once
// What the bindings of the triangulating learners (Learner2D, LearnerND)
// share beyond conversions.hpp: points as Python tuples and back, arrays of
// points, and errors raised inside loss functions written in Python.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "conversions.hpp"

namespace taskmaster::python {

/// A C-contiguous float64 view of an array-like (forcecast).
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// A point as the tuple of Python floats python-adaptive uses as `data` key.
inline py::tuple point_tuple(const double* x, std::size_t n) {
  py::tuple out(n);
  for (std::size_t i = 0; i < n; ++i) {
    PyTuple_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), PyFloat_FromDouble(x[i]));
  }
  return out;
}

/// Reads a point of `dim` coordinates into `out` and returns the key it has
/// in `data`: the object itself when it is already a tuple of floats (the
/// usual case, a point from `ask`), else a new tuple of floats. Wrong
/// lengths are ValueErrors (python-adaptive fails unpacking them), NaN
/// coordinates too: such a point could never be looked up again.
inline py::object read_point(py::handle x, std::size_t dim, double* out, const char* where) {
  if (PyTuple_CheckExact(x.ptr()) && static_cast<std::size_t>(PyTuple_GET_SIZE(x.ptr())) == dim) {
    bool floats = true;
    for (std::size_t i = 0; i < dim && floats; ++i) {
      PyObject* item = PyTuple_GET_ITEM(x.ptr(), static_cast<Py_ssize_t>(i));
      if (PyFloat_CheckExact(item)) {
        out[i] = PyFloat_AS_DOUBLE(item);
      } else {
        floats = false;
      }
    }
    if (floats) {
      for (std::size_t i = 0; i < dim; ++i) {
        if (std::isnan(out[i])) {
          throw py::value_error(std::string(where) + ": the point has a NaN coordinate");
        }
      }
      return py::reinterpret_borrow<py::object>(x);
    }
  }
  if (!PySequence_Check(x.ptr())) {
    throw py::value_error(std::string(where) + ": a point must be a sequence of " +
                          std::to_string(dim) + " numbers, got " +
                          std::string(py::str(py::type::of(x).attr("__name__"))));
  }
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(x);
  const auto n = static_cast<std::size_t>(py::len(seq));
  if (n != dim) {
    throw py::value_error(std::string(where) + ": a point must have " + std::to_string(dim) +
                          " coordinates, got " + std::to_string(n));
  }
  for (std::size_t i = 0; i < dim; ++i) {
    out[i] = to_double(seq[i], "a point's coordinate");
    if (std::isnan(out[i])) {
      throw py::value_error(std::string(where) + ": the point has a NaN coordinate");
    }
  }
  return point_tuple(out, dim);
}

/// An output's components (the value itself for a scalar).
inline std::span<const double> components(const Output& out) {
  return out.scalar ? std::span<const double>(&out.first, 1) : std::span<const double>(out.values);
}

/// An (n, dim) float array of points, ValueError otherwise.
inline DoubleArray read_points(py::handle xs, std::size_t dim, const char* where) {
  auto array = DoubleArray::ensure(xs);
  if (!array) {
    PyErr_Clear();
    throw py::value_error(std::string(where) + ": the points must be numbers, an (n, " +
                          std::to_string(dim) + ") array");
  }
  if (array.size() == 0)
    return DoubleArray(std::vector<py::ssize_t>{0, static_cast<py::ssize_t>(dim)});
  if (array.ndim() != 2 || static_cast<std::size_t>(array.shape(1)) != dim) {
    throw py::value_error(std::string(where) + ": the points must form an (n, " +
                          std::to_string(dim) + ") array, got shape " +
                          std::string(py::str(array.attr("shape"))));
  }
  const double* p = array.data();
  for (py::ssize_t i = 0; i < array.size(); ++i) {
    if (std::isnan(p[i]))
      throw py::value_error(std::string(where) + ": a point has a NaN coordinate");
  }
  return array;
}

/// The first Python exception raised by a loss function written in Python.
/// The learner's triangulation calls the loss in the middle of an update; an
/// exception thrown through it would leave the update half done, so the
/// callback keeps the error, answers a loss of 0, and the binding raises the
/// error once the learner's call has returned.
struct LossErrors {
  std::optional<py::error_already_set> first;

  /// Runs a loss callback; a Python error is kept and `fallback` returned.
  template <class F>
  double guard(F&& f, double fallback = 0.0) {
    try {
      return f();
    } catch (py::error_already_set& e) {
      if (!first) first.emplace(std::move(e));
    } catch (const py::builtin_exception& e) {
      e.set_error();
      py::error_already_set fetched;
      if (!first) first.emplace(std::move(fetched));
    }
    return fallback;
  }

  /// Raises the kept error, if any.
  void raise_pending() {
    if (!first) return;
    py::error_already_set e = std::move(*first);
    first.reset();
    throw e;
  }
};

/// Shared between a learner and its loss callback (which may outlive a
/// rebuild of the learner's core).
struct LossContext {
  LossErrors errors;
  bool scalar_outputs = true;  // how the callback shows values: floats or arrays
  bool busy = false;           // a learner call is in progress
};

/// Marks a learner call in progress for its duration: a loss written in
/// Python that calls its own learner would reach into a triangulation in the
/// middle of an update, so that call is refused (a RuntimeError).
class InCall {
 public:
  explicit InCall(LossContext& context) : context_(context) {
    if (context_.busy) {
      throw std::runtime_error("the learner cannot be used from inside its own loss function");
    }
    context_.busy = true;
  }
  ~InCall() { context_.busy = false; }
  InCall(const InCall&) = delete;
  InCall& operator=(const InCall&) = delete;

 private:
  LossContext& context_;
};

using LossContextPtr = std::shared_ptr<LossContext>;

/// Calls `f` (returning a py::object) for a method written against the C
/// API: C++ exceptions become the Python exceptions pybind11 would raise.
template <class F>
PyObject* call_guarded(F&& f) noexcept {
  try {
    return f().release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::out_of_range& e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const std::overflow_error& e) {
    PyErr_SetString(PyExc_OverflowError, e.what());
  } catch (const std::logic_error& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
  return nullptr;
}

/// The arguments of a METH_FASTCALL | METH_KEYWORDS call by parameter
/// name: `out[i]` is the argument for `names[i]` (nullptr when not given).
/// TypeErrors as Python's own for too many, unknown or repeated arguments.
template <std::size_t N>
void fastcall_arguments(const char* function, const std::array<const char*, N>& names,
                        PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                        std::array<PyObject*, N>& out) {
  out.fill(nullptr);
  if (static_cast<std::size_t>(nargs) > N) {
    throw py::type_error(std::string(function) + "() takes at most " + std::to_string(N) +
                         " arguments (" + std::to_string(nargs) + " given)");
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[static_cast<std::size_t>(i)] = args[i];
  if (kwnames == nullptr) return;
  for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kwnames); ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    std::size_t i = 0;
    while (i < N && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) ++i;
    if (i == N) {
      throw py::type_error(std::string(function) + "() got an unexpected keyword argument '" +
                           std::string(py::str(key)) + "'");
    }
    if (out[i] != nullptr) {
      throw py::type_error(std::string(function) + "() got multiple values for argument '" +
                           names[i] + "'");
    }
    out[i] = args[nargs + k];
  }
}

/// The C++ object of a pybind11 instance `self` of a class bound to T (or of
/// a Python subclass), for methods written against the C API; a TypeError
/// when its __init__ has not run.
template <class T>
T& self_of(PyObject* self) {
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  const auto holder = instance->get_value_and_holder(py::detail::get_type_info(typeid(T)), false);
  if (!holder || !holder.holder_constructed() || holder.value_ptr() == nullptr) {
    throw py::type_error("the learner is not initialised (its __init__ has not run)");
  }
  return *static_cast<T*>(holder.value_ptr());
}

/// Replaces the method `name` of the pybind11 class `cls` by a C-API one
/// (METH_FASTCALL | METH_KEYWORDS): pybind11's generic dispatch costs a few
/// hundred nanoseconds a call, a sizeable share of a fast ask or tell.
/// `def` must outlive the class (a static).
inline void add_fast_method(const py::handle& cls, PyMethodDef& def) {
  PyObject* descriptor = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def);
  if (descriptor == nullptr) throw py::error_already_set();
  py::setattr(cls, def.ml_name, py::reinterpret_steal<py::object>(descriptor));
}

/// Sorts rows of a (n, width) table lexicographically, as python-adaptive's
/// to_numpy sorts its data items.
inline void sort_rows(std::vector<double>& table, std::size_t width) {
  const std::size_t n = width == 0 ? 0 : table.size() / width;
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t k = 0; k < width; ++k) {
      const double x = table[a * width + k], y = table[b * width + k];
      if (x < y) return true;
      if (y < x) return false;
    }
    return false;
  });
  std::vector<double> sorted(table.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(table.begin() + static_cast<std::ptrdiff_t>(order[i] * width),
              table.begin() + static_cast<std::ptrdiff_t>((order[i] + 1) * width),
              sorted.begin() + static_cast<std::ptrdiff_t>(i * width));
  }
  table = std::move(sorted);
}

/// A (rows, width) float array copied from a flat table.
inline py::array_t<double> table_array(const std::vector<double>& table, std::size_t width) {
  const std::size_t rows = width == 0 ? 0 : table.size() / width;
  py::array_t<double> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(width)});
  std::copy(table.begin(), table.end(), out.mutable_data());
  return out;
}

}  // namespace taskmaster::python
