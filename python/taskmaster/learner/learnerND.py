"""LearnerND and its loss functions, under python-adaptive's names.

The learner is the compiled taskmaster LearnerND: python-adaptive's algorithm
(a Delaunay triangulation of the points, a loss per simplex, the next point in
the simplex of largest loss) on CGAL's d-dimensional triangulation, updated
only where a new point changes it. It does not promise python-adaptive's
points (which depend on the order its Python triangulation breaks ties in);
it refines the same way.

The built-in losses run natively; so do python-adaptive's own loss objects
when they are passed (recognised by name and parameters). Any other callable
with python-adaptive's signature ``loss(simplex, values, value_scale)`` (or,
marked with ``uses_nth_neighbors(1)``, ``loss(simplex, values, value_scale,
neighbors, neighbor_values)``) is called back from the learner.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _learner_nd
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin, extend_compiled, uses_nth_neighbors

__all__ = [
    "LearnerND",
    "default_loss",
    "uniform_loss",
    "std_loss",
    "triangle_loss",
    "curvature_loss_function",
    "uses_nth_neighbors",
]


class NativeSimplexLoss:
    """A built-in LearnerND loss: run natively by the learner, and callable as
    python-adaptive's ``loss(simplex, values, value_scale[, neighbors, neighbor_values])``."""

    def __init__(self, name: str, nth_neighbors: int, doc: str, **params: float) -> None:
        self.native_name = name
        self.nth_neighbors = nth_neighbors
        self.params = {k: float(v) for k, v in params.items()}
        self.__doc__ = doc
        self.__name__ = f"{name}_loss"
        if name == "curvature" and not self.params.get("exploration", 0) >= 0:
            raise ValueError(f"exploration must be >= 0, got {self.params.get('exploration')}")

    def __call__(
        self,
        simplex: Any,
        values: Any,
        value_scale: float,
        neighbors: Optional[Sequence[Any]] = None,
        neighbor_values: Optional[Sequence[Any]] = None,
    ) -> float:
        return _learner_nd.simplex_loss(
            self.native_name,
            self.params,
            np.asarray(simplex, dtype=float),
            np.asarray(values, dtype=float),
            float(value_scale),
            None if neighbors is None else list(neighbors),
            None if neighbor_values is None else list(neighbor_values),
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<LearnerND loss {self.native_name}({params})>"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NativeSimplexLoss)
            and other.native_name == self.native_name
            and other.params == self.params
        )

    def __hash__(self) -> int:
        return hash((self.native_name, tuple(sorted(self.params.items()))))


default_loss = NativeSimplexLoss(
    "default", 0, "The volume of the simplex lifted into (points, scaled values) space."
)
uniform_loss = NativeSimplexLoss("uniform", 0, "The simplex's volume: samples the domain uniformly.")
std_loss = NativeSimplexLoss(
    "std", 0, "The norm of the values' standard deviation times volume**(1/dim), plus the volume."
)
triangle_loss = NativeSimplexLoss(
    "triangle", 1, "The mean volume of the simplices the lifted simplex forms with each lifted neighbour."
)


def curvature_loss_function(exploration: float = 0.05) -> NativeSimplexLoss:
    """(triangle_loss + exploration * volume**((2 + dim) / dim)) ** (1 / (2 + dim))."""
    return NativeSimplexLoss(
        "curvature", 1, curvature_loss_function.__doc__ or "", exploration=exploration
    )


_ADAPTIVE_PLAIN = {
    "default_loss": "default",
    "uniform_loss": "uniform",
    "std_loss": "std",
    "triangle_loss": "triangle",
}
_ADAPTIVE_CLOSURES = {
    "curvature_loss_function.<locals>.curvature_loss": ("curvature", ("exploration",)),
}


def native_spec(loss: Any) -> Optional[tuple[str, dict[str, float]]]:
    """The built-in loss ``loss`` stands for, as (name, parameters), or None.

    Recognises this module's losses and python-adaptive's own
    (``adaptive.learner.learnerND``), whose parameters live in closures.
    """
    if isinstance(loss, NativeSimplexLoss):
        return loss.native_name, dict(loss.params)
    if getattr(loss, "__module__", None) != "adaptive.learner.learnerND":
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


def _is_convex_hull(bounds: Any) -> bool:
    return type(bounds).__name__ == "ConvexHull" and hasattr(bounds, "vertices")


def _loss_spec(
    bounds: Any, loss: Any, anisotropic: bool, triangulation_backend: Any
) -> tuple[Any, Optional[str], dict[str, float], int]:
    """What the compiled learner needs of its arguments: the loss object it
    keeps, the native loss (name, parameters) or None for a loss written in
    Python, and the loss's nth_neighbors. Refuses what the learner does not
    support."""
    if _is_convex_hull(bounds):
        raise NotImplementedError(
            "LearnerND: a ConvexHull domain is not supported; give bounds as [(a_1, b_1), ...]"
        )
    if anisotropic:
        raise NotImplementedError("LearnerND: anisotropic=True is not supported")
    loss = loss or default_loss
    nth = int(getattr(loss, "nth_neighbors", 0))
    if nth > 1:
        raise NotImplementedError(
            "LearnerND: losses that look at next-nearest neighbouring simplices "
            f"(nth_neighbors = {nth}) are not implemented; use 0 or 1"
        )
    if nth < 0:
        raise ValueError(f"nth_neighbors must be 0 or 1, got {nth}")
    spec = native_spec(loss)
    if spec is not None:
        return loss, spec[0], spec[1], nth
    if not callable(loss):
        raise TypeError(f"loss_per_simplex must be callable, got {type(loss).__name__}")
    return loss, None, {}, nth


_LEARNERND_DOC = """Learns a function of several real variables on a box, refining where
the function varies most.

A drop-in for python-adaptive's ``LearnerND(func, bounds,
loss_per_simplex=None)``, with ``bounds = [(a_1, b_1), ..., (a_n, b_n)]``
(two dimensions or more).

Example::

    import taskmaster as adaptive
    learner = adaptive.LearnerND(lambda p: p[0] * p[1] * p[2], bounds=[(-1, 1)] * 3)
    while learner.npoints < 500:
        points, _ = learner.ask(1)
        learner.tell(points[0], learner.function(points[0]))

Differences from python-adaptive, by design:

- The points asked are the C++ learner's, not python-adaptive's (which
  depend on its own triangulation's tie-breaking); in particular, while
  the corners are pending, further points come from the triangulation
  of the pending corners rather than at random.
- ``bounds`` must be a box: a ``scipy.spatial.ConvexHull`` domain is not
  supported (NotImplementedError), nor is ``anisotropic=True``;
  ``triangulation_backend`` is accepted and ignored (the triangulation
  is always CGAL's). Internals that expose python-adaptive's own
  triangulation (``tri``, ``_subtriangulations``, ``_losses``, ...) are
  not provided; ``plot_3D``, ``plot_isoline`` and ``plot_isosurface``
  (plotly/holoviews) neither.
- A loss written in Python sees the simplex in unit-cube coordinates
  ``(x - a) / (b - a)`` (python-adaptive: ``x / (b - a)``, the same up
  to a shift); ``neighbors`` and ``neighbor_values`` list only the
  neighbours that exist (no ``None`` entries, so position i does not
  necessarily face vertex i). An exception raised by the loss is raised
  by the learner call that computed it (the simplex keeps loss 0).
- A NaN coordinate is a ValueError, as are bounds with min >= max and
  values whose shape differs from the earlier ones. Points outside the
  bounds are kept in ``data`` and not learned from, as in python-adaptive
  (without its 1e-8 tolerance: a point a hair outside is not learned).
- ``ask(n, tell_pending=False)`` returns the points of the n best
  simplices as they are (for n > 1 python-adaptive returns what ``ask(n)``
  would, each point splitting its simplex before the next is chosen).
- ``save``/``load`` write and read the data (``{"data": ...}``), and
  ``load`` also reads files that python-adaptive's LearnerND wrote
  (its whole state; the data are taken from it).
- ``pending_points`` is a new set on each access; ``plot()`` and
  ``plot_slice()`` draw with matplotlib.
"""


class _LearnerNDMethods(LearnerMixin):
    """The Python-written part of LearnerND (added to the compiled class)."""

    anisotropic: bool = False

    @property
    def _bbox(self) -> tuple[tuple[float, float], ...]:
        return self.bounds

    # --- python-adaptive's accessors ---------------------------------------------

    @property
    def points(self) -> np.ndarray:
        """The points of ``data``, in its order: (npoints, ndim)."""
        return np.array(list(self.data.keys()), dtype=float).reshape(-1, self.ndim)

    @property
    def values(self) -> np.ndarray:
        """The values of ``data``, in its order."""
        return np.array(list(self.data.values()), dtype=float)

    def inside_bounds(self, point: Sequence[float]) -> bool:
        """Whether the point lies in the bounds (python-adaptive's 1e-8 tolerance included)."""
        eps = 1e-8
        return all((lo - eps) <= p <= (hi + eps) for p, (lo, hi) in zip(point, self.bounds))

    def ip(self) -> Any:
        """A ``scipy.interpolate.LinearNDInterpolator`` over the data
        (python-adaptive's ``_ip()``)."""
        from .learner2D import _scipy

        return _scipy("LearnerND.ip()").interpolate.LinearNDInterpolator(self.points, self.values)

    _ip = ip

    def interpolate(self, points: Any) -> np.ndarray:
        """The learner's own linear interpolation of the told data at
        ``points`` ((m, ndim)): (m,) values, or (m, vdim) for vector
        outputs; NaN where nothing is known yet."""
        values = self._interpolate(np.asarray(points, dtype=float).reshape(-1, self.ndim))
        return values[:, 0] if self.vdim == 1 else values

    # --- python-adaptive's contract ----------------------------------------------

    def _init_arguments(self) -> tuple:
        return (self.bounds, self.loss_per_simplex)

    def _get_data(self) -> dict[str, Any]:
        return {"data": dict(self.data)}

    def _set_data(self, data: Any) -> None:
        # python-adaptive's LearnerND saves its whole __dict__; the data are
        # what carries over. A plain {point: value} mapping is taken as is.
        if isinstance(data, dict) and "data" in data:
            data = data["data"]
        if data:
            points = np.array([tuple(p) for p in data.keys()], dtype=float)
            values = [np.asarray(v, dtype=float) for v in data.values()]
            self.tell_many(points, np.array(values, dtype=float))

    def _full_state(self) -> Any:
        return (self._state(), dict(self.data))

    def _restore_state(self, state: Any) -> None:
        (json, kind, vdim), data = state
        self._load_state(json, kind, vdim, data)

    # --- output -----------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        point_names: tuple[str, ...] = ("x", "y", "z"),
        value_name: str = "value",
    ) -> Any:
        """The data as a pandas DataFrame: one column per coordinate
        (``point_names``, as many as ``ndim``) and ``value_name``."""
        pandas = require_pandas()
        if len(point_names) != self.ndim:
            raise ValueError(
                f"point_names ({point_names}) should have the same length as learner.ndim ({self.ndim})"
            )
        df = pandas.DataFrame([tuple(p) for p in self.data.keys()], columns=list(point_names))
        df[value_name] = list(self.data.values())
        df.attrs["inputs"] = list(point_names)
        df.attrs["output"] = value_name
        if with_default_function_args:
            assign_defaults(self.function, df, function_prefix)
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        point_names: tuple[str, ...] = ("x", "y", "z"),
        value_name: str = "value",
    ) -> None:
        """Tells the learner the rows of ``df`` (as written by :meth:`to_dataframe`)."""
        values = [np.asarray(v, dtype=float) for v in df[value_name].values]
        self.tell_many(np.asarray(df[list(point_names)].values, dtype=float), np.array(values))
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def _grid_size(self, n: Optional[int], dims: int) -> int:
        if n is not None:
            return int(n)
        # As fine as the simplices are small: a simplex of the unit cube
        # holds about 1 / (npoints * dims!) of it.
        count = max(self._simplex_count, 1)
        return max(10, min(400, int(round(count ** (1 / dims) * 2))))

    def plot(self, n: Optional[int] = None, tri_alpha: float = 0, *, ax: Any = None) -> Any:
        """Draws a 2D learner's interpolated data with matplotlib and returns
        the Axes. As in python-adaptive, only for two input dimensions and
        scalar outputs (NotImplementedError otherwise: use :meth:`plot_slice`).
        ``tri_alpha`` is accepted for compatibility; triangles are not drawn."""
        if self.vdim > 1:
            raise NotImplementedError("LearnerND.plot: only scalar outputs can be plotted")
        if self.ndim != 2:
            raise NotImplementedError(
                "LearnerND.plot: only 2D plots are implemented; plot a 2D slice with 'plot_slice'"
            )
        return self.plot_slice({}, n, ax=ax)

    def plot_slice(self, cut_mapping: dict[int, float], n: Optional[int] = None, *, ax: Any = None) -> Any:
        """Draws a 1D or 2D slice of the interpolated data with matplotlib and
        returns the Axes: ``cut_mapping`` fixes dimensions (``{index:
        value}``), the one or two left are drawn, over ``n`` points per axis."""
        plot_dims = [d for d in range(self.ndim) if d not in cut_mapping]
        if len(plot_dims) not in (1, 2):
            raise ValueError("Only 1 or 2-dimensional plots can be generated.")
        if self.vdim > 1:
            raise NotImplementedError("LearnerND.plot_slice: only scalar outputs can be plotted")
        plt = require_matplotlib()
        if ax is None:
            _, ax = plt.subplots()
        if len(plot_dims) == 1:
            size = n or 201
            (d,) = plot_dims
            xs = np.linspace(*self.bounds[d], size)
            grid = np.tile([float(cut_mapping.get(i, 0.0)) for i in range(self.ndim)], (size, 1))
            grid[:, d] = xs
            if self.npoints:
                ax.plot(xs, self._interpolate(grid)[:, 0])
            margin = 0.05 * (self.bounds[d][1] - self.bounds[d][0])
            ax.set_xlim(self.bounds[d][0] - margin, self.bounds[d][1] + margin)
            ax.set_xlabel(f"x{d}")
            return ax
        size = self._grid_size(n, 2)
        dx, dy = plot_dims
        xs = np.linspace(*self.bounds[dx], size)
        ys = np.linspace(*self.bounds[dy], size)
        grid = np.tile([float(cut_mapping.get(i, 0.0)) for i in range(self.ndim)], (size * size, 1))
        mesh_x, mesh_y = np.meshgrid(xs, ys, indexing="ij")
        grid[:, dx] = mesh_x.ravel()
        grid[:, dy] = mesh_y.ravel()
        if self.npoints >= 4:
            zs = self._interpolate(grid)[:, 0].reshape(size, size)
            ax.imshow(
                zs.T,
                origin="lower",
                extent=(*self.bounds[dx], *self.bounds[dy]),
                aspect="auto",
                cmap="viridis",
            )
        ax.set_xlim(*self.bounds[dx])
        ax.set_ylim(*self.bounds[dy])
        ax.set_xlabel(f"x{dx}")
        ax.set_ylabel(f"x{dy}")
        return ax


LearnerND = extend_compiled(_learner_nd.LearnerND, _LearnerNDMethods, __name__, _LEARNERND_DOC)
