"""SequenceLearner: evaluates every element of a given sequence once.

A drop-in for python-adaptive 1.5's ``SequenceLearner``: points are
``(index, element)`` pairs handed out in index order, ``data`` maps an index
to its value, ``pending_points`` holds indices, and ``function`` takes the
pair and calls the user's function with the element. It lets a plain map
over a list use the runners, saving and DataFrames of the other learners.
"""

from __future__ import annotations

import copy
import heapq
import operator
from typing import Any, Callable, Iterable, Sequence

import cloudpickle
import numpy as np

from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_pandas
from .base_learner import load_file, save_file

__all__ = ["SequenceLearner"]

PointType = tuple[int, Any]


class _WithoutIndex:
    """``f`` called with the element of an ``(index, element)`` point.

    ``lambda point: f(point[1])`` would do, but a lambda does not pickle, and
    executors pickle the function they run. ``function`` is ``f``.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, index_point: PointType, *args: Any, **kwargs: Any) -> Any:
        _, element = index_point
        return self.function(element, *args, **kwargs)

    def __reduce__(self) -> tuple:
        return (type(self), (self.function,))

    def __repr__(self) -> str:
        return f"<{self.function!r} of the element of (index, element)>"


def _index_of(value: Any) -> int:
    """An index from an int, a numpy integer, or a float with an integral value (DataFrame columns)."""
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise TypeError(f"a sequence index must be an integer, got {value!r}") from None


class SequenceLearner:
    r"""Evaluates ``function`` at every element of ``sequence``, in order.

    Parameters
    ----------
    function : callable
        Called with one element of the sequence.
    sequence : sequence
        The elements (anything with ``len`` and integer indexing: a list,
        a range, a numpy array...; elements need not be hashable). A shallow
        copy is kept.

    Attributes
    ----------
    data : dict
        Index in the sequence -> value, in index order.
    pending_points : set
        The indices being evaluated.
    function : callable
        Takes a point ``(index, element)`` and returns ``f(element)``.

    Example::

        learner = SequenceLearner(math.sqrt, [1, 4, 9])
        adaptive.runner.simple(learner, goal=SequenceLearner.done)
        learner.result()  # [1.0, 2.0, 3.0]

    Differences from python-adaptive, by design: an index outside the
    sequence is refused (IndexError) by ``tell``/``tell_pending``;
    ``tell_pending`` of an index that already has a value is ignored (as
    Learner1D does); ``result()`` raises RuntimeError (python-adaptive a
    plain Exception); a pickled copy keeps its pending points;
    ``load_dataframe`` keeps ``function`` taking ``(index, element)``
    points; ``data`` is a dict kept in index order rather than a
    sortedcontainers.SortedDict; ``to_numpy`` is added.
    """

    def __init__(self, function: Callable[[Any], Any], sequence: Sequence[Any]) -> None:
        if not (hasattr(sequence, "__len__") and hasattr(sequence, "__getitem__")):
            raise TypeError(
                f"sequence must support len() and indexing (a list, range, array...), got {type(sequence).__name__}"
            )
        self._original_function = function
        self.function: Callable[[PointType], Any] = _WithoutIndex(function)
        self.sequence = copy.copy(sequence)
        self._ntotal = len(sequence)
        self._data: dict[int, Any] = {}
        self._in_order = True
        self.pending_points: set[int] = set()
        self._cache: dict[str, Any] = {}
        # Indices >= _cursor are to do unless told or pending; indices below
        # it are to do only if in _returned (taken back by remove_unfinished),
        # kept as a heap so the smallest comes first.
        self._cursor = 0
        self._returned: set[int] = set()
        self._returned_heap: list[int] = []

    def new(self) -> "SequenceLearner":
        """A SequenceLearner of the same function and sequence, without data."""
        return SequenceLearner(self._original_function, self.sequence)

    # --- data ------------------------------------------------------------------

    @property
    def data(self) -> dict[int, Any]:
        """Index -> value, iterating in index order."""
        if not self._in_order:
            ordered = sorted(self._data.items())
            self._data.clear()
            self._data.update(ordered)
            self._in_order = True
        return self._data

    @data.setter
    def data(self, data: dict[int, Any]) -> None:
        self._data = dict(sorted(data.items()))
        self._in_order = True

    @property
    def npoints(self) -> int:
        """The number of elements evaluated."""
        return len(self._data)

    def done(self) -> bool:
        """Whether every element has its value."""
        return len(self._data) == self._ntotal

    def result(self) -> list[Any]:
        """The values in the order of the sequence; RuntimeError until :meth:`done`."""
        if not self.done():
            raise RuntimeError(
                f"the SequenceLearner is not done: {self._ntotal - len(self._data)} of "
                f"{self._ntotal} elements have no value yet"
            )
        return list(self.data.values())

    def loss(self, real: bool = True) -> float:
        """The fraction of elements without a value (``real=False``: nor pending)."""
        if self.done():
            loss = 0.0
        else:
            npoints = len(self._data) + (0 if real else len(self.pending_points))
            loss = (self._ntotal - npoints) / self._ntotal
        self._cache["loss"] = loss
        return loss

    # --- asking and telling ------------------------------------------------------

    def _is_todo(self, i: int) -> bool:
        return i not in self._data and i not in self.pending_points

    def _todo(self, n: int) -> list[int]:
        """The n smallest indices still to do, without taking them."""
        heap = self._returned_heap
        out: list[int] = []
        while heap and len(out) < n:
            i = heapq.heappop(heap)
            # Entries told since, and second copies, are dropped for good.
            if i in self._returned and (not out or out[-1] != i):
                out.append(i)
        for i in out:
            heapq.heappush(heap, i)
        # Move the cursor past what is done or pending: those indices come back
        # through _returned if they are ever to do again.
        j = self._cursor
        while j < self._ntotal and not self._is_todo(j):
            j += 1
        self._cursor = j
        while len(out) < n and j < self._ntotal:
            if self._is_todo(j):
                out.append(j)
            j += 1
        return out

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[PointType], list[float]]:
        """The next ``n`` elements not yet evaluated nor pending, as ``(index, element)`` points.

        Each comes with the loss improvement ``1 / len(sequence)``; fewer
        than ``n`` come back near the end of the sequence.
        """
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"ask: n must be >= 0, got {n}")
        indices = self._todo(n) if n else []
        points = [(i, self.sequence[i]) for i in indices]
        if tell_pending:
            for point in points:
                self.tell_pending(point)
        improvement = 1 / self._ntotal if self._ntotal else 0.0
        return points, [improvement] * len(points)

    def _checked_index(self, point: PointType) -> int:
        index, _ = point
        i = _index_of(index)
        if not 0 <= i < self._ntotal:
            raise IndexError(f"index {index} out of range: the sequence has {self._ntotal} elements")
        return i

    def tell(self, point: PointType, value: Any) -> None:
        """Stores ``value`` for ``point = (index, element)`` (only the index is used)."""
        i = self._checked_index(point)
        if self._in_order and self._data and i not in self._data and i < next(reversed(self._data)):
            self._in_order = False
        self._data[i] = value
        self.pending_points.discard(i)
        self._returned.discard(i)

    def tell_many(self, points: Iterable[PointType], values: Iterable[Any]) -> None:
        """``tell`` for each pair, in order."""
        points = list(points)
        values = list(values)
        if len(points) != len(values):
            raise ValueError(f"tell_many: {len(points)} points but {len(values)} values")
        for point, value in zip(points, values):
            self.tell(point, value)

    def tell_pending(self, point: PointType) -> None:
        """Marks ``point = (index, element)`` as being evaluated."""
        i = self._checked_index(point)
        if i in self._data:
            return
        self.pending_points.add(i)
        self._returned.discard(i)

    def remove_unfinished(self) -> None:
        """Makes the pending indices to-do again."""
        for i in self.pending_points:
            if i < self._cursor and i not in self._returned:
                self._returned.add(i)
                heapq.heappush(self._returned_heap, i)
        self.pending_points = set()

    # --- saving ----------------------------------------------------------------

    def _get_data(self) -> dict[int, Any]:
        return dict(self.data)

    def _set_data(self, data: dict[int, Any]) -> None:
        if data:
            indices, values = zip(*data.items())
            # tell uses only the index of a point.
            self.tell_many([(i, None) for i in indices], values)

    def copy_from(self, other: Any) -> None:
        """Tells this learner everything ``other`` learned."""
        self._set_data(other._get_data())

    def save(self, fname: str, compress: bool = True) -> None:
        """Saves ``data`` to ``fname`` in python-adaptive's format (gzip'd cloudpickle)."""
        save_file(fname, self._get_data(), compress)

    def load(self, fname: str, compress: bool = True) -> None:
        """Tells the learner the data saved in ``fname``; a missing or empty file is ignored."""
        try:
            data = load_file(fname, compress)
        except (FileNotFoundError, EOFError):
            return
        self._set_data(data)

    def _inner_function(self) -> Callable[..., Any]:
        function = self.function
        return function.function if isinstance(function, _WithoutIndex) else function

    def __getstate__(self) -> tuple:
        functions = cloudpickle.dumps((self._original_function, self._inner_function()))
        return (functions, self.sequence, self._get_data(), sorted(self.pending_points))

    def __setstate__(self, state: tuple) -> None:
        functions, sequence, data, pending = state
        original, inner = cloudpickle.loads(functions)
        self.__init__(original, sequence)  # type: ignore[misc]
        self.function = _WithoutIndex(inner)
        self._set_data(data)
        for i in pending:
            self.tell_pending((i, None))

    # --- output ----------------------------------------------------------------

    def to_numpy(self) -> np.ndarray:
        """The numeric data as an array of rows ``[index, *value]``, in index order."""
        rows = [[i, *np.ravel(np.asarray(y, dtype=float))] for i, y in self.data.items()]
        if not rows:
            return np.empty((0, 2))
        try:
            return np.array(rows, dtype=float)
        except ValueError:
            raise ValueError("to_numpy needs values of one shape; use to_dataframe") from None

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        index_name: str = "i",
        x_name: str = "x",
        y_name: str = "y",
        *,
        full_sequence: bool = False,
    ) -> Any:
        """The data as a pandas DataFrame with columns ``index_name``, ``x_name``, ``y_name``.

        With ``full_sequence`` every element has a row, ``pandas.NA`` as the
        value of those not evaluated. With ``with_default_function_args``,
        each default argument of the function gets a constant column
        ``function_prefix + name``.
        """
        pandas = require_pandas()
        data = self.data
        if full_sequence:
            indices = list(range(self._ntotal))
            ys = [data.get(i, pandas.NA) for i in indices]
        else:
            indices = list(data)
            ys = list(data.values())
        df = pandas.DataFrame(indices, columns=[index_name])
        df[x_name] = [self.sequence[i] for i in indices]
        df[y_name] = ys
        df.attrs["inputs"] = [index_name]
        df.attrs["output"] = y_name
        if with_default_function_args:
            assign_defaults(self._inner_function(), df, function_prefix)
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        index_name: str = "i",
        x_name: str = "x",
        y_name: str = "y",
        *,
        full_sequence: bool = False,
    ) -> None:
        """Tells the learner the rows of ``df`` (as written by :meth:`to_dataframe`).

        With ``full_sequence`` rows whose value is ``pandas.NA`` are skipped.
        With ``with_default_function_args`` the function columns are bound
        to the function's arguments.
        """
        pandas = require_pandas()
        indices = list(df[index_name].values)
        xs = list(df[x_name].values)
        ys = list(df[y_name].values)
        if full_sequence:
            kept = [k for k, y in enumerate(ys) if y is not pandas.NA]
            indices = [indices[k] for k in kept]
            xs = [xs[k] for k in kept]
            ys = [ys[k] for k in kept]
        self.tell_many(zip(indices, xs), ys)
        if with_default_function_args:
            self.function = _WithoutIndex(
                partial_from_dataframe(self._original_function, df, function_prefix)
            )

    def __repr__(self) -> str:
        return (
            f"<SequenceLearner of {self._ntotal} elements, {len(self._data)} done, "
            f"{len(self.pending_points)} pending>"
        )
