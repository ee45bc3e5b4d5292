"""IntegratorLearner: adaptive quadrature (Gonnet's CQUAD), under python-adaptive's name.

The learner is the compiled taskmaster IntegratorLearner: for the same asks
and tells it asks exactly the points python-adaptive 1.5's IntegratorLearner
asks, and reaches the same estimate, much faster.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .. import _integrator_learner
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin

__all__ = ["IntegratorLearner", "DivergentIntegralError", "Interval"]

DivergentIntegralError = _integrator_learner.DivergentIntegralError
DivergentIntegralError.__doc__ = (
    "The integral diverges: the leading coefficient of an interval kept more than "
    "doubling as it was split (a ValueError, as in python-adaptive)."
)
DivergentIntegralError.__module__ = __name__


@dataclass(frozen=True)
class Interval:
    """One interval of the quadrature, as the learner last estimated it.

    ``depth`` is the rule being sampled (0..3: 5, 9, 17 or 33 nodes),
    ``rdepth`` the number of splits from [a, b] plus one, ``removed`` whether
    it is precise to numerical accuracy and no longer refined.
    """

    a: float
    b: float
    depth: int
    rdepth: int
    igral: float
    err: float
    removed: bool


class IntegratorLearner(LearnerMixin, _integrator_learner.IntegratorLearner):
    """Integrates ``function`` over ``bounds`` to the relative tolerance ``tol``.

    A drop-in for python-adaptive's ``IntegratorLearner(function, bounds,
    tol)``: done when ``err < tol * |igral|`` (or when no interval can be
    refined any more).

    Example::

        import math
        import taskmaster as adaptive
        learner = adaptive.IntegratorLearner(math.sqrt, bounds=(0, 1), tol=1e-8)
        while not learner.done():
            xs, _ = learner.ask(1)
            learner.tell(xs[0], learner.function(xs[0]))
        print(learner.igral, learner.err)  # 2/3 and its error estimate

    Members as in python-adaptive: ``igral``, ``err``, ``done()``,
    ``loss()``, ``npoints``, ``data``, ``pending_points`` (every node without
    a value, asked or still queued; a snapshot), ``approximating_intervals``
    and ``ivals`` (snapshots of :class:`Interval`), ``max_ivals`` (settable),
    ``bounds``, ``tol``.

    Differences from python-adaptive, by design:

    - ``remove_unfinished()`` makes the points asked but never told the
      first to be asked again (python-adaptive's does nothing, so they are
      never asked again);
    - ``tell_pending(x)`` takes the point (python-adaptive's takes no
      argument): asked points are pending already, and the point the learner
      would ask next is taken, so that BalancingLearner works;
    - a point told twice keeps its first value;
    - any batch size and any order of results work (python-adaptive asserts
      in some orders), and NaN values are left out of the fit;
    - ``save``/``load`` and pickling keep the compiled learner's whole state;
      files written by python-adaptive's ``save`` (or DataFrames) are loaded
      by replaying their points: see :meth:`load_dataframe`;
    - the internal tables (``priority_split``, ``x_mapping``, ``first_ival``)
      are not exposed; ``approximating_intervals`` and ``ivals`` hold
      read-only :class:`Interval` records, not the live intervals;
    - ``bounds`` and ``tol`` are read-only;
    - ``plot()`` draws with matplotlib.

    Against python-adaptive itself: the points are the same as long as NumPy
    computes python-adaptive's nodes with a correctly rounded cosine. NumPy's
    AVX-512 cosine differs in the last bit at 20 of the 33 nodes, so on such
    machines python-adaptive asks other points (and differs from itself on
    other machines) unless run with NPY_DISABLE_CPU_FEATURES set to the
    AVX512 features. ``igral`` agrees to rounding; ``err`` to about 1e-9
    relative (the rule matrices are computed differently).
    """

    def __init__(self, function: Callable[[float], float], bounds: tuple[float, float], tol: float) -> None:
        super().__init__(function, bounds, tol)

    def tell_pending(self, x: Any = None) -> None:
        """Marks ``x`` as being evaluated.

        Asked points are pending already. A point not asked yet is taken when
        it is the one the learner would ask next, which is what a
        BalancingLearner needs after peeking with ``ask(n, tell_pending=False)``;
        any other point is left alone. (python-adaptive's takes no argument,
        so its BalancingLearner cannot hold IntegratorLearners.)
        """
        if x is None or x in self.data:
            return
        try:
            upcoming, _ = self.ask(1, tell_pending=False)
        except RuntimeError:  # nothing left to ask
            return
        if upcoming[0] == x:
            self.ask(1)

    @property
    def approximating_intervals(self) -> set[Interval]:
        """The intervals whose estimates make up ``igral`` and ``err``."""
        return {Interval(*fields) for fields in self._intervals(True)}

    @property
    def ivals(self) -> set[Interval]:
        """The intervals that may still be refined."""
        return {Interval(*fields) for fields in self._intervals(False)}

    # --- python-adaptive's contract ----------------------------------------

    def _init_arguments(self) -> tuple:
        return (self.bounds, self.tol)

    def _get_data(self) -> Any:
        """The compiled learner's whole state (python-adaptive's layout is its interval objects)."""
        return self._state()

    def _set_data(self, data: Any) -> None:
        """Replaces the state with one ``_get_data`` returned.

        python-adaptive's layout (a 7-tuple of its interval objects, from its
        ``save``) is accepted too: its ``data`` dict is replayed.
        """
        if isinstance(data, tuple) and len(data) == 7:
            self._reset()
            self._replay(data[1])
            return
        json, values = data
        self._reset()
        self._load_state(json, dict(values))

    def _full_state(self) -> Any:
        return self._state()

    def _restore_state(self, state: Any) -> None:
        self._load_state(*state)

    def _replay(self, values: Mapping[float, float]) -> None:
        """Rebuilds the learner from known values: asks one point at a time and
        tells it while it is among ``values``, which reproduces a run that asked
        and told one point at a time; then tells the rest of the values that are
        nodes of the intervals so far. Values that belong to no interval are
        left out, with a warning."""
        remaining = {float(x): y for x, y in values.items()}
        while remaining:
            try:
                points, _ = self.ask(1)
            except RuntimeError:  # nothing left to refine
                break
            if points[0] not in remaining:
                break
            self.tell(points[0], remaining.pop(points[0]))
        self.remove_unfinished()
        for x in list(remaining):
            try:
                self.tell(x, remaining[x])
            except ValueError:
                continue
            del remaining[x]
        if remaining:
            warnings.warn(
                f"IntegratorLearner: {len(remaining)} of {len(values)} points belong to no "
                "interval of the replayed run and were left out",
                stacklevel=3,
            )

    # --- output --------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
    ) -> Any:
        """The data as a pandas DataFrame sorted by x: columns ``x_name`` and ``y_name``."""
        pandas = require_pandas()
        df = pandas.DataFrame(sorted(self.data.items()), columns=[x_name, y_name])
        df.attrs["inputs"] = [x_name]
        df.attrs["output"] = y_name
        if with_default_function_args:
            assign_defaults(self.function, df, function_prefix)
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
    ) -> None:
        """Rebuilds the learner from the rows of ``df`` (as written by :meth:`to_dataframe`).

        python-adaptive raises NotImplementedError: the points of an
        integrator only make sense in the interval tree that asked them.
        Here the run is replayed: the learner asks one point at a time and is
        told its value from ``df``, which rebuilds exactly a run that asked
        and told one point at a time (a parallel run as far as it agrees with
        that order; rows the replay never reaches are left out, with a
        warning). The learner must be new.
        """
        if self.npoints:
            raise ValueError("IntegratorLearner.load_dataframe: the learner already holds data")
        xs = df[x_name].values.tolist()
        ys = df[y_name].values.tolist()
        self._reset()
        self._replay(dict(zip(xs, ys)))
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def plot(self, *, ax: Any = None) -> Any:
        """The evaluated points joined by a line (matplotlib); returns the Axes."""
        plt = require_matplotlib()
        if ax is None:
            _, ax = plt.subplots()
        table = self.to_numpy()
        if len(table):
            ax.plot(table[:, 0], table[:, 1], ".-", markersize=3)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return ax
