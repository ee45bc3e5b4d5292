#pragma once
// Python objects as JSON values in the history's conventions, and back.
//
// Runs from Python carry inputs and outputs as nlohmann::json through the
// C++ loop and masters: numbers as numbers (NaN and infinities as the
// strings "nan", "inf", "-inf", as history files write them), tuples and
// lists and NumPy arrays as arrays, dicts as objects. Reading back, arrays
// become tuples, so that points are hashable as python-adaptive's are.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include <taskmaster/history/codec.hpp>

namespace taskmaster::python {

namespace py = pybind11;
using Value = nlohmann::json;

inline Value number_value(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return d;
}

/// A Python value as JSON; a TypeError naming the type when it has no JSON form.
inline Value to_value(py::handle object, int depth = 0) {
  if (depth > 64) throw py::value_error("value nested more than 64 levels deep");
  if (object.is_none()) return nullptr;
  if (PyBool_Check(object.ptr())) return object.ptr() == Py_True;
  if (PyLong_Check(object.ptr())) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(object.ptr(), &overflow);
    if (overflow == 0) return v;
    return number_value(PyLong_AsDouble(object.ptr()));
  }
  if (PyFloat_Check(object.ptr())) return number_value(PyFloat_AS_DOUBLE(object.ptr()));
  if (PyUnicode_Check(object.ptr())) return object.cast<std::string>();
  if (PyTuple_Check(object.ptr()) || PyList_Check(object.ptr())) {
    Value out = Value::array();
    for (py::handle item : object) out.push_back(to_value(item, depth + 1));
    return out;
  }
  if (PyDict_Check(object.ptr())) {
    Value out = Value::object();
    for (auto item : py::reinterpret_borrow<py::dict>(object)) {
      out[py::str(item.first).cast<std::string>()] = to_value(item.second, depth + 1);
    }
    return out;
  }
  if (py::isinstance<py::array>(object)) return to_value(object.attr("tolist")(), depth + 1);
  // NumPy scalars and other numbers.
  if (py::hasattr(object, "__index__")) {
    PyObject* index = PyNumber_Index(object.ptr());
    if (index == nullptr) throw py::error_already_set();
    return to_value(py::reinterpret_steal<py::object>(index), depth + 1);
  }
  if (py::hasattr(object, "__float__")) return number_value(PyFloat_AsDouble(object.ptr()));
  throw py::type_error(
      "a value of type " + py::str(py::type::of(object).attr("__name__")).cast<std::string>() +
      " cannot be recorded (numbers, strings, tuples, lists, arrays and dicts can)");
}

/// A JSON value as a Python object: arrays become tuples.
inline py::object from_value(const Value& value) {
  switch (value.type()) {
    case Value::value_t::null: return py::none();
    case Value::value_t::boolean: return py::bool_(value.get<bool>());
    case Value::value_t::number_integer: return py::int_(value.get<long long>());
    case Value::value_t::number_unsigned: return py::int_(value.get<unsigned long long>());
    case Value::value_t::number_float: return py::float_(value.get<double>());
    case Value::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (s == "nan") return py::float_(std::nan(""));
      if (s == "inf") return py::float_(HUGE_VAL);
      if (s == "-inf") return py::float_(-HUGE_VAL);
      return py::str(s);
    }
    case Value::value_t::array: {
      py::tuple out(value.size());
      for (std::size_t i = 0; i < value.size(); ++i) out[i] = from_value(value[i]);
      return out;
    }
    case Value::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : value.items()) out[py::str(k)] = from_value(v);
      return out;
    }
    default: return py::none();
  }
}

}  // namespace taskmaster::python

namespace taskmaster {

/// Values from Python are written as the library writes its own types:
/// floats in their shortest exact form ("-1", not "-1.0") and NaN or
/// infinities as strings. Replays compare points by this text, so a run
/// recorded by the command-line tool replays from Python and the other way
/// round.
template <>
struct Codec<nlohmann::json> {
  static void encode(std::string& out, const nlohmann::json& value) {
    switch (value.type()) {
      case nlohmann::json::value_t::number_float:
        taskmaster::encode(out, value.get<double>());
        return;
      case nlohmann::json::value_t::array: {
        out += '[';
        bool first = true;
        for (const auto& item : value) {
          if (!first) out += ',';
          first = false;
          encode(out, item);
        }
        out += ']';
        return;
      }
      case nlohmann::json::value_t::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, item] : value.items()) {
          if (!first) out += ',';
          first = false;
          out += nlohmann::json(key).dump();
          out += ':';
          encode(out, item);
        }
        out += '}';
        return;
      }
      default: out += value.dump();
    }
  }
  static nlohmann::json decode(const nlohmann::json& j) { return j; }
};

}  // namespace taskmaster
