"""Learner1D and its loss functions, under python-adaptive's names.

The learner is the compiled taskmaster Learner1D: it asks exactly the points
python-adaptive 1.5's Learner1D asks, much faster. The built-in losses run
natively; so do python-adaptive's own loss objects when they are passed
(recognised by name and parameters); any other callable with the signature
``loss(xs, ys) -> float`` is called back from the learner.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _learner_1d
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin, extend_compiled, uses_nth_neighbors

__all__ = [
    "Learner1D",
    "uniform_loss",
    "default_loss",
    "abs_min_log_loss",
    "triangle_loss",
    "curvature_loss_function",
    "resolution_loss_function",
    "uses_nth_neighbors",
]


class NativeIntervalLoss:
    """A built-in Learner1D loss: run natively by the learner, callable as ``loss(xs, ys)``."""

    def __init__(self, name: str, nth_neighbors: int, doc: str, **params: float) -> None:
        self.native_name = name
        self.nth_neighbors = nth_neighbors
        self.params = {k: float(v) for k, v in params.items()}
        self.__doc__ = doc
        self.__name__ = f"{name}_loss"

    def __call__(self, xs: Sequence[Optional[float]], ys: Sequence[Any]) -> float:
        return _learner_1d.interval_loss(self.native_name, self.params, list(xs), list(ys))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<Learner1D loss {self.native_name}({params})>"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NativeIntervalLoss)
            and other.native_name == self.native_name
            and other.params == self.params
        )

    def __hash__(self) -> int:
        return hash((self.native_name, tuple(sorted(self.params.items()))))


uniform_loss = NativeIntervalLoss("uniform", 0, "The interval's scaled length: samples the domain uniformly.")
default_loss = NativeIntervalLoss(
    "default", 0, "The scaled distance between the interval's ends (the largest over vector components)."
)
abs_min_log_loss = NativeIntervalLoss(
    "abs_min_log", 0, "default_loss on log(min |y|): refines towards the absolute minimum."
)
triangle_loss = NativeIntervalLoss(
    "triangle", 1, "The mean area of the triangles the interval forms with its neighbours."
)


def curvature_loss_function(
    area_factor: float = 1, euclid_factor: float = 0.02, horizontal_factor: float = 0.02
) -> NativeIntervalLoss:
    """area_factor * sqrt(triangle_loss) + euclid_factor * default_loss + horizontal_factor * dx."""
    return NativeIntervalLoss(
        "curvature",
        1,
        curvature_loss_function.__doc__ or "",
        area_factor=area_factor,
        euclid_factor=euclid_factor,
        horizontal_factor=horizontal_factor,
    )


def resolution_loss_function(min_length: float = 0, max_length: float = 1) -> NativeIntervalLoss:
    """default_loss, but 0 for intervals shorter than ``min_length`` and infinite for
    those longer than ``max_length`` (lengths as fractions of the domain)."""
    return NativeIntervalLoss(
        "resolution",
        0,
        resolution_loss_function.__doc__ or "",
        min_length=min_length,
        max_length=max_length,
    )


_ADAPTIVE_PLAIN = {
    "uniform_loss": "uniform",
    "default_loss": "default",
    "abs_min_log_loss": "abs_min_log",
    "triangle_loss": "triangle",
}
_ADAPTIVE_CLOSURES = {
    "curvature_loss_function.<locals>.curvature_loss": (
        "curvature",
        ("area_factor", "euclid_factor", "horizontal_factor"),
    ),
    "resolution_loss_function.<locals>.resolution_loss": ("resolution", ("min_length", "max_length")),
}


def native_spec(loss: Any) -> Optional[tuple[str, dict[str, float]]]:
    """The built-in loss ``loss`` stands for, as (name, parameters), or None.

    Recognises this module's losses and python-adaptive's own
    (``adaptive.learner.learner1D``), whose parameters live in closures.
    """
    if isinstance(loss, NativeIntervalLoss):
        return loss.native_name, dict(loss.params)
    if getattr(loss, "__module__", None) != "adaptive.learner.learner1D":
        return None
    qualname = getattr(loss, "__qualname__", "")
    if qualname in _ADAPTIVE_PLAIN:
        return _ADAPTIVE_PLAIN[qualname], {}
    if qualname in _ADAPTIVE_CLOSURES:
        name, keys = _ADAPTIVE_CLOSURES[qualname]
        try:
            captured = inspect.getclosurevars(loss).nonlocals
            params = {k: float(captured[k]) for k in keys}
        except (KeyError, TypeError, ValueError):
            return None
        return name, params
    return None


def loss_spec(loss: Optional[Callable[..., float]]) -> tuple:
    """How the compiled learner runs ``loss``: (loss object, built-in name or
    None, parameters, nth_neighbors). Called by the Learner1D constructor."""
    loss = default_loss if loss is None else loss
    nth = int(getattr(loss, "nth_neighbors", 0))
    if nth < 0:
        raise ValueError(f"loss_per_interval.nth_neighbors must be >= 0, got {nth}")
    spec = native_spec(loss)
    if spec is None:
        if not callable(loss):
            raise TypeError(f"loss_per_interval must be callable, got {type(loss).__name__}")
        return (loss, None, {}, nth)
    return (loss, spec[0], spec[1], nth)


_LEARNER1D_DOC = """Learner1D(function, bounds, loss_per_interval=None)

    Learns a function of one real variable, refining where the loss is largest.

    A drop-in for python-adaptive's Learner1D: the same points for the same
    calls (ask, tell, tell_many, tell_pending, loss, remove_unfinished), and
    the same members (data, pending_points, npoints, vdim, bounds, function,
    loss_per_interval, nth_neighbors, to_numpy, to_dataframe, load_dataframe,
    save, load, new, copy_from, plot), pickling included.

    Example::

        import taskmaster as adaptive
        learner = adaptive.Learner1D(lambda x: x**3, bounds=(-1, 1))
        while learner.loss() > 0.01:
            xs, _ = learner.ask(1)
            learner.tell(xs[0], learner.function(xs[0]))

    Differences from python-adaptive, by design: ``pending_points`` is a new
    set on each access (a snapshot); a point told twice keeps its first value
    in ``tell_many`` as in ``tell``; ``plot()`` draws with matplotlib and
    returns the Axes; values are checked (a NaN x, a value of the wrong
    length or None raise ValueError or TypeError and change nothing).
    """


class _Learner1DMethods(LearnerMixin):
    """The Python-written part of Learner1D (added to the compiled class)."""

    # --- python-adaptive's contract ----------------------------------------

    def _init_arguments(self) -> tuple:
        return (self.bounds, self.loss_per_interval)

    def _get_data(self) -> dict[float, Any]:
        return self.data

    def _set_data(self, data: dict[float, Any]) -> None:
        if data:
            xs, ys = zip(*data.items())
            self.tell_many(xs, ys)

    def _full_state(self) -> Any:
        return (self._state(), dict(self.data), sorted(self.pending_points))

    def _restore_state(self, state: Any) -> None:
        (json, kind, vdim), data, pending = state
        self._load_state(json, kind, vdim, data)
        for x in pending:
            self.tell_pending(x)

    # --- output --------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
    ) -> Any:
        """The data as a pandas DataFrame, sorted by x: columns ``x_name`` and ``y_name``."""
        pandas = require_pandas()
        xs, ys = zip(*sorted(self.data.items())) if self.data else ([], [])
        df = pandas.DataFrame(list(xs), columns=[x_name])
        df[y_name] = list(ys)
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
        """Tells the learner the rows of ``df`` (as written by :meth:`to_dataframe`)."""
        ys = list(df[y_name].values)
        self.tell_many(np.asarray(df[x_name].values, dtype=float), ys)
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def plot(self, *, scatter_or_line: str = "scatter", ax: Any = None) -> Any:
        """Draws the data with matplotlib and returns the Axes.

        python-adaptive returns a holoviews object; matplotlib is what a
        plain Python install has. ``scatter_or_line`` is "scatter" or "line".
        """
        if scatter_or_line not in ("scatter", "line"):
            raise ValueError("scatter_or_line must be 'scatter' or 'line'")
        plt = require_matplotlib()
        if ax is None:
            _, ax = plt.subplots()
        table = self.to_numpy()
        if len(table):
            for column in range(1, table.shape[1]):
                if scatter_or_line == "scatter":
                    ax.scatter(table[:, 0], table[:, column], s=8)
                else:
                    ax.plot(table[:, 0], table[:, column])
        margin = 0.05 * (self.bounds[1] - self.bounds[0])
        ax.set_xlim(self.bounds[0] - margin, self.bounds[1] + margin)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return ax


Learner1D = extend_compiled(_learner_1d.Learner1D, _Learner1DMethods, __name__, _LEARNER1D_DOC)
