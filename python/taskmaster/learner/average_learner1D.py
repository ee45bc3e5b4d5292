"""AverageLearner1D: a noisy function of one real variable, under python-adaptive's name.

The learner is the compiled taskmaster AverageLearner1D, a port of
python-adaptive 1.5's: it adds points where the curve of the averages is
least known (as Learner1D does) and takes more samples of a point while its
confidence interval is wide against the distance to its neighbours.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, Mapping, Optional

from .. import _average_learners
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin
from .learner1D import default_loss, native_spec

__all__ = ["AverageLearner1D"]

Point = tuple[int, float]


class AverageLearner1D(LearnerMixin, _average_learners.AverageLearner1D):
    """Learns a noisy ``function((seed, x))`` on ``bounds``; each seed is an independent sample.

    A drop-in for python-adaptive's ``AverageLearner1D(function, bounds,
    loss_per_interval=None, delta=0.2, alpha=0.005, neighbor_sampling=0.3,
    min_samples=50, max_samples=sys.maxsize, min_error=0)``. Points are
    ``(seed, x)`` tuples; ``data`` maps x to the average of its samples,
    ``error`` x to the half-width of its confidence interval (level
    ``1 - 2 alpha``, Student t).

    Example::

        import random, math
        import taskmaster as adaptive

        def noisy(seed_x):
            seed, x = seed_x
            return math.tanh(10 * x) + random.Random(f"{seed}:{x}").gauss(0, 0.1)

        learner = adaptive.AverageLearner1D(noisy, bounds=(-1, 1), min_samples=20)
        while learner.nsamples < 2000:
            points, _ = learner.ask(1)
            learner.tell(points[0], learner.function(points[0]))

    Members as in python-adaptive: ``data``, ``error``, ``rescaled_error``,
    ``nsamples``, ``min_samples_per_point``, ``npoints``, ``pending_points``,
    ``bounds``, ``loss_per_interval``, ``vdim`` and the parameters
    (read-only), ``tell_many_at_point``, ``_data_samples`` and
    ``_number_samples``. Besides: ``nan_samples``, the samples that were NaN.

    Differences from python-adaptive, by design:

    - among several undersampled points the leftmost gets the next samples
      (python-adaptive takes whichever its set yields first), and seeds
      already pending at a point are not asked again (python-adaptive asks
      them again when more samples are asked before the pending ones
      arrive); with one ask(1) and tell at a time the two agree;
    - NaN samples are counted in ``nan_samples`` and left out of the
      averages (python-adaptive's average would become NaN);
    - values are scalars only (``vdim`` is 1): python-adaptive's plot and
      error estimate assume scalars too;
    - ``tell`` of an x outside the bounds raises ValueError, as
      ``tell_many`` does in python-adaptive (its ``tell`` keeps the sample
      but never uses it);
    - ``tell_many_at_point`` tells the samples one by one, so a point
      leaves the undersampled set by the same rule as with ``tell`` (python-
      adaptive's batch rule ignores the neighbours' sample counts);
    - ``alpha`` must be below 1 and ``min_error`` non-negative (python-
      adaptive takes alpha = 1, an infinite t quantile, and negative
      min_error, which acts as 0 for distinct samples);
    - ``data``, ``error``, ``rescaled_error``, ``_data_samples``,
      ``_number_samples`` and ``pending_points`` are read-only views
      rebuilt from the compiled learner (changing them changes nothing);
      Learner1D's internal tables (``neighbors``, ``losses``, ...) are not
      exposed;
    - ``plot()`` draws with matplotlib.
    """

    def __init__(
        self,
        function: Callable[[Point], float],
        bounds: tuple[float, float],
        loss_per_interval: Optional[Callable[..., float]] = None,
        delta: float = 0.2,
        alpha: float = 0.005,
        neighbor_sampling: float = 0.3,
        min_samples: int = 50,
        max_samples: int = sys.maxsize,
        min_error: float = 0,
    ) -> None:
        if not (0 < delta <= 1):
            raise ValueError(f"Learner requires 0 < delta <= 1, got {delta!r}.")
        if not (0 < alpha < 1):
            raise ValueError(f"Learner requires 0 < alpha < 1, got {alpha!r}.")
        if not (0 < neighbor_sampling <= 1):
            raise ValueError(f"Learner requires 0 < neighbor_sampling <= 1, got {neighbor_sampling!r}.")
        if min_samples < 0:
            raise ValueError(f"min_samples should be positive, got {min_samples!r}.")
        if min_samples > max_samples:
            raise ValueError(
                f"max_samples should be larger than min_samples, got {max_samples!r} < {min_samples!r}."
            )
        if max_samples == math.inf:  # adaptive's docstring names inf as the default
            max_samples = sys.maxsize
        if not (min_error >= 0):
            raise ValueError(f"min_error should be non-negative, got {min_error!r}.")
        loss = default_loss if loss_per_interval is None else loss_per_interval
        spec = native_spec(loss)
        nth = int(getattr(loss, "nth_neighbors", 0))
        if nth < 0:
            raise ValueError(f"nth_neighbors must be >= 0, got {nth}")
        if spec is None and not callable(loss):
            raise TypeError(f"loss_per_interval must be callable, got {type(loss).__name__}")
        name, params = spec if spec is not None else (None, {})
        super().__init__(
            function,
            bounds,
            loss,
            name,
            params,
            nth,
            float(delta),
            float(alpha),
            float(neighbor_sampling),
            min_samples,
            max_samples,
            float(min_error),
        )

    @property
    def vdim(self) -> int:
        """The length of a value: 1, the learner averages scalars."""
        return 1

    # --- python-adaptive's contract ----------------------------------------

    def _init_arguments(self) -> tuple:
        return (
            self.bounds,
            self.loss_per_interval,
            self.delta,
            self.alpha,
            self.neighbor_sampling,
            self.min_samples,
            self.max_samples,
            self.min_error,
        )

    def _get_data(self) -> dict[float, dict[int, float]]:
        """python-adaptive's layout: x -> {seed: sample}."""
        return self._data_samples

    def _set_data(self, data: Mapping[float, Mapping[int, float]]) -> None:
        """Tells the samples of each x (python-adaptive's ``_set_data``: adds to what is there)."""
        if data:
            for x, samples in data.items():
                self.tell_many_at_point(x, dict(samples))

    def _full_state(self) -> Any:
        return self._state()

    def _restore_state(self, state: Any) -> None:
        self._load_state(*state)

    # --- output --------------------------------------------------------------

    def to_dataframe(
        self,
        mean: bool = False,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        x_name: str = "x",
        y_name: str = "y",
    ) -> Any:
        """The data as a pandas DataFrame.

        With ``mean`` the averages (columns ``x_name``, ``y_name``, by x), else
        every sample (columns ``seed_name``, ``x_name``, ``y_name``, by x and seed).
        """
        pandas = require_pandas()
        if mean:
            rows: list[tuple] = sorted(self.data.items())
            columns = [x_name, y_name]
        else:
            rows = [
                (seed, x, y)
                for x, samples in self._data_samples.items()
                for seed, y in samples.items()
            ]
            columns = [seed_name, x_name, y_name]
        df = pandas.DataFrame(rows, columns=columns)
        df.attrs["inputs"] = [seed_name, x_name]
        df.attrs["output"] = y_name
        if with_default_function_args:
            assign_defaults(self.function, df, function_prefix)
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        x_name: str = "x",
        y_name: str = "y",
    ) -> None:
        """Tells the learner the samples in ``df`` (as written by :meth:`to_dataframe`)."""
        points = list(zip(df[seed_name].values.tolist(), df[x_name].values.tolist()))
        self.tell_many(points, df[y_name].values.tolist())
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def plot(self, *, ax: Any = None) -> Any:
        """The averages with their confidence intervals as error bars (matplotlib); returns the Axes."""
        plt = require_matplotlib()
        if ax is None:
            _, ax = plt.subplots()
        if self.data:
            xs, ys = zip(*sorted(self.data.items()))
            errors = self.error
            ax.errorbar(xs, ys, yerr=[errors[x] for x in xs], fmt="o-", markersize=3)
        margin = 0.05 * (self.bounds[1] - self.bounds[0])
        ax.set_xlim(self.bounds[0] - margin, self.bounds[1] + margin)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return ax

    def tell_many_at_point(self, x: float, seed_y_mapping: Mapping[int, float]) -> None:
        """Tells the samples ``{seed: y}`` taken at ``x``."""
        super().tell_many_at_point(x, dict(seed_y_mapping))
