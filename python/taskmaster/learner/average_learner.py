"""AverageLearner: the mean of a noisy function of an integer seed, under python-adaptive's name.

The learner is the compiled taskmaster AverageLearner. It asks seeds as
python-adaptive 1.5's AverageLearner does (consecutive integers from 0,
the lowest free ones once there are gaps) and needs no randomness of its
own: the function draws its noise from the seed, so a run is reproducible.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .. import _average_learners
from .._dataframe import assign_defaults, partial_from_dataframe
from .._optional import require_matplotlib, require_pandas
from .base_learner import LearnerMixin

__all__ = ["AverageLearner"]


class AverageLearner(LearnerMixin, _average_learners.AverageLearner):
    """Estimates the mean of ``function(seed)`` to a tolerance, asking seeds 0, 1, 2, ...

    A drop-in for python-adaptive's ``AverageLearner(function, atol=None,
    rtol=None, min_npoints=2)``: the same seeds for the same calls. The loss
    is the standard error of the mean over the tolerance, ``max(stderr / atol,
    stderr / (rtol |mean|))``, infinite below ``min_npoints`` samples.

    Example::

        import random
        import taskmaster as adaptive
        learner = adaptive.AverageLearner(lambda seed: random.Random(seed).random(), atol=0.01)
        while learner.loss() > 1:
            seeds, _ = learner.ask(1)
            learner.tell(seeds[0], learner.function(seeds[0]))

    Members as in python-adaptive: ``data`` (seed -> value), ``npoints``,
    ``n_requested``, ``pending_points`` (a snapshot set), ``mean``, ``std``,
    ``atol``/``rtol`` (infinite when not given), ``min_npoints``. Besides:
    ``nonfinite_count``, the samples that were NaN or infinite.

    Differences from python-adaptive, by design: NaN and infinite samples are
    kept in ``data`` but left out of ``mean``, ``std`` and ``loss`` (they
    would make all three NaN); ``mean`` is NaN rather than ZeroDivisionError
    with no data; mean and std are computed with Welford's update, so their
    last bits may differ; a tolerance must be positive (python-adaptive takes
    0 and divides by it); ``atol``, ``rtol`` and ``min_npoints`` are read-only;
    a relative tolerance with a mean of exactly 0 gives an infinite loss
    (python-adaptive then ignores the mean); ``plot()`` draws with matplotlib.
    """

    def __init__(
        self,
        function: Callable[[int], float],
        atol: Optional[float] = None,
        rtol: Optional[float] = None,
        min_npoints: int = 2,
    ) -> None:
        super().__init__(function, atol, rtol, min_npoints)

    # --- python-adaptive's contract ----------------------------------------

    def _init_arguments(self) -> tuple:
        return (self.atol, self.rtol, self.min_npoints)

    def _get_data(self) -> tuple[dict[int, float], int, float, float]:
        """python-adaptive's layout: (data, npoints, sum of values, sum of squares)."""
        data = dict(self.data)
        values = list(data.values())
        return data, len(data), math.fsum(values), math.fsum(v * v for v in values)

    def _set_data(self, data: tuple[dict[int, float], int, float, float]) -> None:
        """Replaces the data, as python-adaptive's does; pending seeds stay pending.

        Only the dict is read: the count and sums follow from it.
        """
        samples = data[0] if isinstance(data, tuple) else data
        pending = self.pending_points
        self._reset()
        if samples:
            self.tell_many(list(samples.keys()), list(samples.values()))
        for seed in pending:
            self.tell_pending(seed)

    def _full_state(self) -> Any:
        return self._state()

    def _restore_state(self, state: Any) -> None:
        self._load_state(*state)

    # --- output --------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        seed_name: str = "seed",
        y_name: str = "y",
    ) -> Any:
        """The data as a pandas DataFrame sorted by seed: columns ``seed_name`` and ``y_name``."""
        pandas = require_pandas()
        df = pandas.DataFrame(sorted(self.data.items()), columns=[seed_name, y_name])
        df.attrs["inputs"] = [seed_name]
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
        y_name: str = "y",
    ) -> None:
        """Tells the learner the rows of ``df`` (as written by :meth:`to_dataframe`)."""
        self.tell_many(df[seed_name].values.tolist(), df[y_name].values.tolist())
        if with_default_function_args:
            self.function = partial_from_dataframe(self.function, df, function_prefix)

    def plot(self, *, ax: Any = None) -> Any:
        """A histogram of the values with matplotlib; returns the Axes.

        python-adaptive returns a holoviews histogram with
        ``max(5, sqrt(npoints))`` bins; this draws the same bins.
        """
        plt = require_matplotlib()
        if ax is None:
            _, ax = plt.subplots()
        values = [v for v in self.data.values() if v is not None and math.isfinite(v)]
        if values:
            ax.hist(values, bins=int(max(5, math.sqrt(self.npoints))))
        ax.set_xlabel("y")
        ax.set_ylabel("count")
        return ax
