"""Learner2D and its loss functions, under python-adaptive's names.

The learner is the compiled taskmaster Learner2D: python-adaptive's
algorithm (a Delaunay triangulation of the points, a loss per triangle, the
next point in the triangle of largest loss) with the triangulation and the
losses updated incrementally instead of rebuilt, so a step costs O(log N).
Because python-adaptive rebuilds its triangulation every ``stack_size``
points and this learner keeps one up to date, the two do not ask the same
points; they refine the same way.

The built-in losses run natively; so do python-adaptive's own loss objects
when they are passed (recognised by name and parameters). Any other callable
with python-adaptive's signature ``loss(ip) -> losses per triangle`` works
too, with one difference: the learner computes losses one triangle at a time,
so ``ip`` interpolates a patch, the triangle and its (up to three)
neighbouring vertices, not the whole data. See :class:`Learner2D`.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _learner_2d
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin, extend_compiled

__all__ = [
    "Learner2D",
    "default_loss",
    "uniform_loss",
    "minimize_triangle_surface_loss",
    "triangle_loss",
    "resolution_loss_function",
    "thresholded_loss_function",
    "areas",
    "deviations",
]


# --- helpers for losses written in Python -----------------------------------


def _scipy(what: str) -> Any:
    """scipy (interpolate and spatial), or an ImportError saying what needs it."""
    try:
        import scipy.interpolate
        import scipy.spatial
    except ImportError as error:
        raise ImportError(
            f"{what} needs scipy, which is not installed (Debian: apt-get install python3-scipy)"
        ) from error
    return scipy


def areas(ip: Any) -> np.ndarray:
    """The area of every triangle of ``ip.tri`` (python-adaptive's helper of the same name)."""
    corners = np.asarray(ip.tri.points)[ip.tri.simplices]
    u = corners[:, 1] - corners[:, 0]
    v = corners[:, 2] - corners[:, 0]
    return np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2


def _gradients(ip: Any, values: np.ndarray) -> np.ndarray:
    """The gradient at each point of ``ip.tri`` of ``values`` ((n, vdim)), as
    scipy's Clough-Tocher interpolant estimates it: (n, vdim, 2)."""
    scipy = _scipy("estimating gradients (deviations, default_loss(ip))")
    return scipy.interpolate.CloughTocher2DInterpolator(ip.tri, values, tol=1e-6).grad


def deviations(ip: Any) -> np.ndarray:
    """How far the linear estimate from each vertex's gradient misses the
    triangle's other vertices, summed over its vertices: an array
    (vdim, number of triangles), on values divided by their largest range
    (python-adaptive's helper of the same name)."""
    raw = np.asarray(ip.values, dtype=float)
    values = raw.reshape(len(raw), -1)
    values = values / (np.ptp(values, axis=0).max() or 1)
    slopes = _gradients(ip, values)
    simplices = ip.tri.simplices
    corners = np.asarray(ip.tri.points)[simplices]  # (m, 3, 2)
    at = values[simplices]  # (m, 3, vdim)
    slope = slopes[simplices]  # (m, 3, vdim, 2)
    # Estimate of vertex k seen from vertex j: value_j + (p_k - p_j) . grad_j
    step = corners[:, None, :, :] - corners[:, :, None, :]  # (m, j, k, 2)
    estimate = at[:, :, None, :] + np.einsum("mjkd,mjcd->mjkc", step, slope)
    miss = np.abs(estimate - at[:, None, :, :]).max(axis=2)  # (m, j, vdim)
    return miss.sum(axis=1).T


# --- the built-in losses ------------------------------------------------------


class NativeTriangleLoss:
    """A built-in Learner2D loss: run natively by the learner, and callable as
    python-adaptive's ``loss(ip)`` (the losses of every triangle of ``ip.tri``)."""

    def __init__(self, name: str, doc: str, **params: Optional[float]) -> None:
        self.native_name = name
        self.params = {k: (None if v is None else float(v)) for k, v in params.items()}
        self.__doc__ = doc
        self.__name__ = f"{name}_loss"
        _learner_2d.loss_uses_gradients(name, self.params)  # refuses bad parameters now

    def __call__(self, ip: Any) -> np.ndarray:
        raw = np.asarray(ip.values, dtype=float)
        values = raw.reshape(len(raw), -1)
        scale = float(np.ptp(values, axis=0).max() or 1) if len(values) else 1.0
        gradients = None
        if _learner_2d.loss_uses_gradients(self.native_name, self.params):
            # Estimated on normalised values as python-adaptive does, then
            # back in raw units, which is what the native loss expects.
            gradients = (_gradients(ip, values / scale) * scale).reshape(len(values), -1)
        return _learner_2d.triangle_losses(
            self.native_name,
            self.params,
            np.asarray(ip.tri.points, dtype=float),
            np.asarray(ip.tri.simplices),
            np.asarray(ip.tri.neighbors),
            values,
            gradients,
            scale,
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<Learner2D loss {self.native_name}({params})>"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NativeTriangleLoss)
            and other.native_name == self.native_name
            and other.params == self.params
        )

    def __hash__(self) -> int:
        return hash((self.native_name, tuple(sorted(self.params.items()))))


default_loss = NativeTriangleLoss(
    "default",
    "Deviation of the linear estimates from the vertices' gradients times sqrt(area), plus 0.3 * area.",
)
uniform_loss = NativeTriangleLoss("uniform", "sqrt(area): samples the domain uniformly.")
minimize_triangle_surface_loss = NativeTriangleLoss(
    "minimize_triangle_surface",
    "The area of the triangle lifted into (x, y, normalised value) space.",
)
triangle_loss = NativeTriangleLoss(
    "triangle",
    "The mean volume of the simplices the lifted triangle forms with each neighbouring vertex.",
)


def resolution_loss_function(min_distance: float = 0, max_distance: float = 1) -> NativeTriangleLoss:
    """default_loss, but 0 for triangles of area below ``min_distance**2`` and
    infinite above ``max_distance**2`` (the domain being a unit square)."""
    return NativeTriangleLoss(
        "resolution",
        resolution_loss_function.__doc__ or "",
        min_distance=min_distance,
        max_distance=max_distance,
    )


def thresholded_loss_function(
    lower_threshold: Optional[float] = None,
    upper_threshold: Optional[float] = None,
    priority_factor: float = 0.1,
) -> NativeTriangleLoss:
    """default_loss, times ``priority_factor`` for triangles whose values all
    lie below ``lower_threshold`` or all above ``upper_threshold``."""
    return NativeTriangleLoss(
        "thresholded",
        thresholded_loss_function.__doc__ or "",
        lower_threshold=lower_threshold,
        upper_threshold=upper_threshold,
        priority_factor=priority_factor,
    )


_ADAPTIVE_PLAIN = {
    "default_loss": "default",
    "uniform_loss": "uniform",
    "minimize_triangle_surface_loss": "minimize_triangle_surface",
    "triangle_loss": "triangle",
}
_ADAPTIVE_CLOSURES = {
    "resolution_loss_function.<locals>.resolution_loss": ("resolution", ("min_distance", "max_distance")),
    "thresholded_loss_function.<locals>.custom_loss": (
        "thresholded",
        ("lower_threshold", "upper_threshold", "priority_factor"),
    ),
}


def native_spec(loss: Any) -> Optional[tuple[str, dict[str, Optional[float]]]]:
    """The built-in loss ``loss`` stands for, as (name, parameters), or None.

    Recognises this module's losses and python-adaptive's own
    (``adaptive.learner.learner2D``), whose parameters live in closures.
    """
    if isinstance(loss, NativeTriangleLoss):
        return loss.native_name, dict(loss.params)
    if getattr(loss, "__module__", None) != "adaptive.learner.learner2D":
        return None
    qualname = getattr(loss, "__qualname__", "")
    if qualname in _ADAPTIVE_PLAIN:
        return _ADAPTIVE_PLAIN[qualname], {}
    if qualname in _ADAPTIVE_CLOSURES:
        name, keys = _ADAPTIVE_CLOSURES[qualname]
        try:
            captured = inspect.getclosurevars(loss).nonlocals
            params = {k: (None if captured[k] is None else float(captured[k])) for k in keys}
        except (KeyError, TypeError, ValueError):
            return None
        return name, params
    return None


def _patch_callback(loss: Callable[[Any], Any]) -> Callable[[np.ndarray, np.ndarray], float]:
    """Adapts a python-adaptive loss ``loss(ip)`` to the learner's per-triangle
    callback: ``points`` (scaled) and ``values`` hold the triangle (rows 0-2)
    and its neighbouring vertices; the loss sees them through a scipy
    LinearNDInterpolator and its entry for the triangle is the result."""
    scipy = _scipy("a Learner2D loss written in Python")
    LinearNDInterpolator = scipy.interpolate.LinearNDInterpolator
    Delaunay = scipy.spatial.Delaunay
    target = np.array([0, 1, 2])

    def evaluate(points: np.ndarray, values: np.ndarray) -> float:
        tri = Delaunay(points)
        found = np.flatnonzero((np.sort(tri.simplices, axis=1) == target).all(axis=1))
        if len(found) == 0:
            # Co-circular points: the patch was triangulated across the
            # triangle; the triangle alone still gives its loss.
            tri = Delaunay(points[:3])
            values = values[:3]
            found = np.array([0])
        losses = np.asarray(loss(LinearNDInterpolator(tri, values)), dtype=float).reshape(-1)
        return float(losses[found[0]])

    return evaluate


# --- the learner ---------------------------------------------------------------


def _loss_spec(loss: Any) -> tuple[Any, Optional[str], dict[str, Optional[float]], Any]:
    """What the compiled learner needs of ``loss_per_triangle``: the loss
    object it keeps, and either the native loss (name, parameters) or the
    per-triangle callback of a loss written in Python."""
    loss = loss or default_loss
    spec = native_spec(loss)
    if spec is not None:
        return loss, spec[0], spec[1], None
    if not callable(loss):
        raise TypeError(f"loss_per_triangle must be callable, got {type(loss).__name__}")
    return loss, None, {}, _patch_callback(loss)


_LEARNER2D_DOC = """Learns a function of two real variables on a rectangle, refining where
the function is least linear.

A drop-in for python-adaptive's ``Learner2D(function, bounds,
loss_per_triangle=None)``, with ``bounds = [(x_min, x_max), (y_min, y_max)]``.

Example::

    import taskmaster as adaptive
    learner = adaptive.Learner2D(lambda xy: xy[0] * xy[1], bounds=[(-1, 1), (-1, 1)])
    while learner.npoints < 500:
        points, _ = learner.ask(1)
        learner.tell(points[0], learner.function(points[0]))

Differences from python-adaptive, by design:

- The triangulation is updated incrementally, so the points asked differ
  from python-adaptive's (they refine the same way). ``stack_size`` is
  accepted and has no effect; there is no stack. ``ask(n,
  tell_pending=False)`` returns the points of the n best triangles as they
  are (for n > 1 python-adaptive returns what ``ask(n)`` would, each point
  splitting its triangle before the next is chosen).
- A loss written in Python gets, for each triangle, an ``ip`` over the
  triangle and its neighbouring vertices only (scaled coordinates and raw
  values as in python-adaptive; where those points are co-circular, the
  triangle alone); its result's entry for that triangle is used. Losses
  that normalise by the range of ``ip.values`` therefore see the patch's
  range. An exception raised by the loss is raised by the learner call
  that computed it (the triangle keeps loss 0).
- A NaN coordinate is a ValueError (python-adaptive stores such a point and
  never learns from it), as are bounds with min >= max and values whose
  shape differs from the earlier ones. Points outside the bounds are kept
  in ``data`` and not learned from, as in python-adaptive.
- Points are tuples of floats (python-adaptive asks the corners as given
  in ``bounds``, e.g. ints); ``pending_points`` is a new set on each access
  (a snapshot); ``to_numpy()`` of no data has shape (0, 2 + vdim);
  ``interpolator()`` and ``ip()`` are scipy interpolators built on demand
  from the data, as in python-adaptive; ``interpolated_on_grid()``
  interpolates with the learner's own triangulation and, with an aspect
  ratio other than 1, returns the y coordinates where it interpolated;
  ``plot()`` draws with matplotlib.
"""


class _Learner2DMethods(LearnerMixin):
    """The Python-written part of Learner2D (added to the compiled class)."""

    ndim: int = 2
    stack_size: int = 10  # python-adaptive's candidate stack; this learner has none

    # --- geometry ---------------------------------------------------------------

    @property
    def aspect_ratio(self) -> float:
        """Average x span over y span of a triangle: > 1 stretches triangles
        along x (for functions with more detail along y). Setting it
        re-triangulates the data."""
        return self._aspect_ratio

    @aspect_ratio.setter
    def aspect_ratio(self, value: float) -> None:
        self._set_aspect_ratio(float(value))

    @property
    def xy_mean(self) -> np.ndarray:
        """The centre of the bounds."""
        return np.mean(self.bounds, axis=1)

    @property
    def xy_scale(self) -> np.ndarray:
        """The size of the bounds, the y side divided by the aspect ratio:
        scaled coordinates are ``(point - xy_mean) / xy_scale``."""
        scale = np.ptp(self.bounds, axis=1)
        if self.aspect_ratio == 1:
            return scale
        return np.array([scale[0], scale[1] / self.aspect_ratio])

    def _scale(self, points: Any) -> np.ndarray:
        return (np.asarray(points, dtype=float) - self.xy_mean) / self.xy_scale

    def _unscale(self, points: Any) -> np.ndarray:
        return np.asarray(points, dtype=float) * self.xy_scale + self.xy_mean

    def inside_bounds(self, xy: tuple[float, float]) -> bool:
        """Whether the point lies in the bounds (edges included)."""
        x, y = xy
        (x_min, x_max), (y_min, y_max) = self.bounds
        return bool(x_min <= x <= x_max and y_min <= y <= y_max)

    # --- interpolation --------------------------------------------------------------

    def _data_in_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        table = self.to_numpy()
        if len(table) == 0:
            return np.zeros((0, 2)), np.zeros((0, self.vdim))
        (x_min, x_max), (y_min, y_max) = self.bounds
        keep = (
            (table[:, 0] >= x_min) & (table[:, 0] <= x_max) & (table[:, 1] >= y_min) & (table[:, 1] <= y_max)
        )
        return table[keep, :2], table[keep, 2:]

    def interpolator(self, *, scaled: bool = False) -> Any:
        """A ``scipy.interpolate.LinearNDInterpolator`` over the data in the
        bounds, in scaled coordinates (the bounds mapped onto
        [-0.5, 0.5]², see ``xy_scale``) or, by default, in the learner's own."""
        LinearNDInterpolator = _scipy("Learner2D.interpolator()").interpolate.LinearNDInterpolator
        cached = getattr(self, "_cached_interpolator", None)
        if scaled and cached is not None and cached[0] == self._version:
            return cached[1]
        points, values = self._data_in_bounds()
        ip = LinearNDInterpolator(self._scale(points) if scaled else points, values)
        if scaled:
            self._cached_interpolator = (self._version, ip)
        return ip

    def ip(self) -> Any:
        """Deprecated in python-adaptive: ``interpolator(scaled=True)``."""
        warnings.warn(
            "`learner.ip()` is deprecated, use `learner.interpolator(scaled=True)`.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.interpolator(scaled=True)

    def interpolated_on_grid(self, n: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The data interpolated linearly on an n x n grid over the bounds.

        Returns ``(xs, ys, zs)``: the grid's coordinates (length n each) and
        the values, ``zs[i, j]`` at ``(xs[i], ys[j])``, of shape (n, n), or
        (n, n, vdim) for vector outputs; NaN where nothing is known yet.
        Without ``n`` the grid is as fine as the smallest triangle (at least
        10, at most 1000). Interpolated by the learner's own triangulation.
        """
        if n is None:
            triangles = self._triangles()
            if len(triangles) == 0:
                n = 10
            else:
                corners = self._scale(triangles.reshape(-1, 2)).reshape(-1, 3, 2)
                u = corners[:, 1] - corners[:, 0]
                v = corners[:, 2] - corners[:, 0]
                smallest = (np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2).min()
                # An equilateral triangle of this area has side sqrt(4 A / sqrt 3) = sqrt(A) / 0.658.
                # Capped: a sliver of a triangle would otherwise ask for a
                # grid of billions of points.
                n = min(max(int(0.658 / np.sqrt(smallest)), 10), 1000) if smallest > 0 else 1000
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        # Just inside the edges, as python-adaptive: points on the boundary
        # could otherwise round to just outside it.
        eps = 1e-13
        s = np.linspace(-0.5 + eps, 0.5 - eps, n)
        (x_min, x_max), (y_min, y_max) = self.bounds
        xs = s * (x_max - x_min) + (x_min + x_max) / 2
        ys = s * (y_max - y_min) + (y_min + y_max) / 2
        grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1).reshape(-1, 2)
        zs = self._interpolate(grid).reshape(n, n, self.vdim).squeeze()
        return xs, ys, zs

    # --- python-adaptive's contract ----------------------------------------------

    def _init_arguments(self) -> tuple:
        return (self.bounds, self.loss_per_triangle)

    def _get_data(self) -> dict[tuple[float, float], Any]:
        return self.data

    def _set_data(self, data: dict[tuple[float, float], Any]) -> None:
        if data:
            points = np.array([tuple(p) for p in data.keys()], dtype=float)
            values = [np.asarray(v, dtype=float) for v in data.values()]
            self.tell_many(points, np.array(values, dtype=float))

    def _full_state(self) -> Any:
        return (self._state(), dict(self.data))

    def _restore_state(self, state: Any) -> None:
        (json, kind, vdim, aspect), data = state
        self._load_state(json, kind, vdim, aspect, data)

    # --- output -----------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        x_name: str = "x",
        y_name: str = "y",
        z_name: str = "z",
    ) -> Any:
        """The data as a pandas DataFrame sorted by (x, y): columns ``x_name``,
        ``y_name`` and ``z_name`` (the values, arrays for vector outputs)."""
        pandas = require_pandas()
        rows = sorted(((x, y), z) for (x, y), z in self.data.items())
        df = pandas.DataFrame([p for p, _ in rows], columns=[x_name, y_name])
        df[z_name] = [z for _, z in rows]
        df.attrs["inputs"] = [x_name, y_name]
        df.attrs["output"] = z_name
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
        z_name: str = "z",
    ) -> None:
        """Tells the learner the rows of ``df`` (as written by :meth:`to_dataframe`)."""
        self._set_data(df.set_index([x_name, y_name])[z_name].to_dict())
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def plot(self, n: Optional[int] = None, tri_alpha: float = 0.0, *, ax: Any = None) -> Any:
        """Draws the interpolated data with matplotlib and returns the Axes
        (a list of them, one per component, for vector outputs).

        python-adaptive returns a holoviews image; matplotlib is what a plain
        Python install has. ``n`` is the grid size (as in
        :meth:`interpolated_on_grid`), ``tri_alpha`` the opacity of the
        triangles drawn over the image (0: none).
        """
        plt = require_matplotlib()
        vdim = self.vdim
        if ax is None:
            _, created = plt.subplots(1, vdim, squeeze=False, figsize=(4 * vdim, 4))
            axes = list(created[0])
        else:
            axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
            if len(axes) != vdim:
                raise ValueError(f"plot needs {vdim} Axes for {vdim} output components, got {len(axes)}")
        (x_min, x_max), (y_min, y_max) = self.bounds
        grid = None
        if self.npoints >= 4 and self.bounds_are_done:
            _, _, zs = self.interpolated_on_grid(n)
            grid = zs.reshape(zs.shape[0], zs.shape[1], -1)
        triangles = self._triangles() if tri_alpha else None
        for component, axis in enumerate(axes):
            if grid is not None:
                axis.imshow(
                    grid[:, :, component].T,
                    origin="lower",
                    extent=(x_min, x_max, y_min, y_max),
                    aspect="auto",
                    cmap="viridis",
                )
            if triangles is not None and len(triangles):
                closed = np.concatenate([triangles, triangles[:, :1]], axis=1)
                for t in closed:
                    axis.plot(t[:, 0], t[:, 1], color="k", linewidth=0.5, alpha=tri_alpha)
            axis.set_xlim(x_min, x_max)
            axis.set_ylim(y_min, y_max)
            axis.set_xlabel("x")
            axis.set_ylabel("y")
        return axes[0] if vdim == 1 else axes


Learner2D = extend_compiled(_learner_2d.Learner2D, _Learner2DMethods, __name__, _LEARNER2D_DOC)
