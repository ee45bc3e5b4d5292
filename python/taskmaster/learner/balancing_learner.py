"""BalancingLearner: several learners run as one, each point going to the
learner that needs it most.

A drop-in for python-adaptive 1.5's ``BalancingLearner``. The children are
any objects with adaptive's learner interface (taskmaster's compiled
learners, python-adaptive's own, DataSavers, other BalancingLearners), so
the balancing itself is written in Python on top of the children's ask and
tell.

The choice of the next learner follows python-adaptive's rule exactly,
tie-breaking included, so that the same children are given the same points
in the same order. What differs is the cost: python-adaptive looks at every
child for every point it hands out; here each child's proposal, point count
and losses are kept until that child changes, and the children are ranked in
a heap whose stale entries are dropped lazily, so a step costs O(log n) in
the number of children plus one ask of the child that changed.
"""

from __future__ import annotations

import copy
import heapq
import inspect
import itertools
import math
import operator
import os
from collections.abc import Iterable
from functools import partial
from typing import Any, Callable, Literal, Optional, Sequence, Union

from .._optional import require_matplotlib, require_pandas

__all__ = ["BalancingLearner", "dispatch"]

StrategyType = Literal["loss_improvements", "loss", "npoints", "cycle"]
CdimsType = Union[Sequence[dict[str, Any]], tuple[Sequence[str], Iterable[tuple[Any, ...]]], None]

_STRATEGIES = ("loss_improvements", "loss", "npoints", "cycle")


def dispatch(child_functions: Sequence[Callable[[Any], Any]], arg: tuple[int, Any]) -> Any:
    """Evaluates ``arg = (index, x)`` with the function of learner ``index``.

    ``BalancingLearner.function`` is this function with the children's
    functions bound (``functools.partial``): a module-level function rather
    than a method, so that an executor pickles the functions and not the
    whole learner.
    """
    index, x = arg
    return child_functions[index](x)


def _named_product(**values: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the named values, as dicts, last name varying fastest."""
    names = list(values)
    return [dict(zip(names, combination)) for combination in itertools.product(*values.values())]


def _rank(value: Any, index: int) -> tuple[int, float]:
    """Heap key (smallest first) for "larger value is better".

    python-adaptive takes the maximum with Python's ``max`` over tuples, for
    which NaN is neither larger nor smaller than anything: a NaN of learner 0
    is therefore never displaced, while a NaN of any other learner never
    displaces anything. The first component reproduces that.
    """
    v = float(value)
    if v != v:
        return (-1, 0.0) if index == 0 else (1, 0.0)
    return (0, -v)


def _copy_with_pending(learner: Any) -> Any:
    """A copy of ``learner`` that has its pending points too.

    Learners copy (pickle) without their pending points, by python-adaptive's
    convention, so they are told to the copy again, in sorted order when the
    points sort.
    """
    clone = copy.deepcopy(learner)
    missing = list(set(learner.pending_points) - set(clone.pending_points))
    try:
        missing.sort()
    except TypeError:
        pass
    for x in missing:
        clone.tell_pending(x)
    return clone


class BalancingLearner:
    r"""Runs several learners as one; points are ``(learner_index, x)``.

    Parameters
    ----------
    learners : list of learners
        The learners to balance, all of one class (as python-adaptive
        requires; losses of different kinds of learners do not compare).
    cdims : sequence of dicts, or (names, iterable of value tuples), optional
        The parameters that label the learners, e.g.
        ``[{"a": 1, "b": 0}, {"a": 1, "b": 1}]`` or
        ``(["a", "b"], [(1, 0), (1, 1)])``; used by :meth:`plot`.
    strategy : "loss_improvements" (default), "loss", "npoints" or "cycle"
        Which learner gets the next point: the one whose next point improves
        its loss most, the one with the largest loss counting pending points,
        the one with the fewest points, or each in turn. Ties go to the
        learner with fewer points (evaluated plus pending), then to the lower
        index. The strategy can be changed at any time.

    Attributes
    ----------
    learners : list
        The child learners.
    function : callable
        ``function((index, x))`` evaluates learner ``index``'s function at x
        (a picklable ``functools.partial`` of :func:`dispatch`).

    Notes
    -----
    Change the children through the BalancingLearner (``tell``,
    ``tell_pending``, ``tell_many``, ``remove_unfinished``, ``load``...): it
    keeps what it knows of each child until the child changes through it, so
    a value told to a child directly is not seen until the BalancingLearner
    next touches that child (python-adaptive's proposal cache has the same
    limit).

    Differences from python-adaptive, by design:

    - a learner with nothing left to propose (an exhausted SequenceLearner)
      is passed over; ``ask`` returns fewer points when no learner has any,
      where python-adaptive raises IndexError;
    - ``ask(n, tell_pending=False)`` leaves everything as it was: for
      ``n > 1`` it works on copies of the learners it would change, made
      with their pending points (python-adaptive changes the learners and
      then restores them from their pickled state, which drops every pending
      point, advances the cycle and keeps proposals computed while the
      children held the points it took back);
    - ``remove_unfinished``, ``load``, ``load_dataframe`` and ``copy_from``
      forget what was cached about the children, and ``load_dataframe``
      rebuilds ``function`` from the children's (possibly new) functions;
    - a pickled copy continues the cycle where the original was;
    - ``save``/``load`` refuse a single file name (python-adaptive would use
      each of its characters as a file name) and a list whose length differs
      from the number of learners; ``tell`` refuses an index out of range,
      negative ones included; ``tell_many`` refuses lists of unequal length;
    - ``plot`` draws with matplotlib (see :meth:`plot`).
    """

    def __init__(
        self,
        learners: Sequence[Any],
        *,
        cdims: CdimsType = None,
        strategy: StrategyType = "loss_improvements",
    ) -> None:
        self.learners: list[Any] = learners if isinstance(learners, list) else list(learners)
        self._cdims_default = cdims
        self.function: Callable[[tuple[int, Any]], Any] = partial(dispatch, self._child_functions())
        if len({learner.__class__ for learner in self.learners}) > 1:
            kinds = sorted({type(learner).__name__ for learner in self.learners})
            raise TypeError(
                f"a BalancingLearner balances learners of one class only, got {', '.join(kinds)}"
            )
        self._cache: dict[str, Any] = {}
        self._overlay: Optional[dict[int, Any]] = None
        self._reset_caches()
        self.strategy = strategy

    # --- construction ------------------------------------------------------

    def _child_functions(self) -> list[Callable[[Any], Any]]:
        functions = []
        for i, learner in enumerate(self.learners):
            try:
                functions.append(learner.function)
            except AttributeError:
                raise AttributeError(
                    f"learner {i} ({type(learner).__name__}) has no attribute 'function'; "
                    "a BalancingLearner needs learners"
                ) from None
        return functions

    @classmethod
    def from_product(
        cls,
        f: Callable[..., Any],
        learner_type: Callable[..., Any],
        learner_kwargs: dict[str, Any],
        combos: dict[str, Sequence[Any]],
    ) -> "BalancingLearner":
        """A BalancingLearner with one learner per combination of ``combos``.

        Learner k is ``learner_type(function=functools.partial(f, **combo_k),
        **learner_kwargs)``, the combinations taken in the order of
        ``itertools.product`` over ``combos``' values (the last name varies
        fastest); the combinations become ``cdims``.

        Example::

            def f(x, a, b):
                return a * x**2 + b

            learner = BalancingLearner.from_product(
                f, Learner1D, dict(bounds=(-1, 1)), dict(a=[1, 2], b=[0, 1]))
        """
        arguments = _named_product(**combos)
        learners = [learner_type(function=partial(f, **combo), **learner_kwargs) for combo in arguments]
        return cls(learners, cdims=arguments)

    def new(self) -> "BalancingLearner":
        """A BalancingLearner of the children's ``new()`` learners: same parameters, no data."""
        return BalancingLearner(
            [learner.new() for learner in self.learners],
            cdims=self._cdims_default,
            strategy=self.strategy,
        )

    # --- what is cached about the children ---------------------------------

    def _reset_caches(self) -> None:
        n = len(self.learners)
        self._n = n
        # (point, loss improvement) each child would propose next, or None.
        self._proposals: list[Optional[tuple[Any, Any]]] = [None] * n
        # npoints + len(pending_points); during an ask python-adaptive counts
        # each point it hands out on top of what it found at the start.
        self._totals: list[Optional[int]] = [None] * n
        self._real_losses: list[Any] = [None] * n
        self._pending_losses: list[Any] = [None] * n
        self._missing_real: set[int] = set(range(n))
        self._missing_pending: set[int] = set(range(n))
        # Children that had nothing to propose, until they change.
        self._exhausted: set[int] = set()
        # Children whose heap entry must be recomputed before the next choice.
        self._dirty: set[int] = set(range(n))
        self._versions: list[int] = [0] * n
        self._heap: list[tuple] = []
        self._heap_strategy: Optional[str] = None

    def _forget(self, i: int, told: bool) -> None:
        """Child i changed: drop what was cached about it.

        A pending mark leaves the loss-with-pending-points cached: that is
        python-adaptive's rule (it refreshes that loss only when the child is
        told a value), and the "loss" strategy's choices depend on it.
        """
        self._proposals[i] = None
        self._totals[i] = None
        self._real_losses[i] = None
        self._missing_real.add(i)
        if told:
            self._pending_losses[i] = None
            self._missing_pending.add(i)
        self._exhausted.discard(i)
        self._dirty.add(i)

    def _forget_all(self) -> None:
        for i in range(len(self.learners)):
            self._forget(i, told=True)

    def _child(self, i: int) -> Any:
        if self._overlay is not None and i in self._overlay:
            return self._overlay[i]
        return self.learners[i]

    def _child_to_change(self, i: int) -> Any:
        # While simulating ask(n, tell_pending=False), a child is copied the
        # first time it would change, so the real one stays as it was.
        if self._overlay is None:
            return self.learners[i]
        if i not in self._overlay:
            self._overlay[i] = _copy_with_pending(self.learners[i])
        return self._overlay[i]

    def _sync(self) -> None:
        """Brings the heap up to date for the current strategy."""
        if len(self.learners) != self._n:
            # The list of learners was edited in place: start afresh.
            self._reset_caches()
            self.function = partial(dispatch, self._child_functions())
        strategy = self._strategy
        if self._heap_strategy != strategy:
            self._heap = []
            self._dirty = set(range(self._n))
            self._heap_strategy = strategy
        if not self._dirty:
            return
        heap = self._heap
        for i in sorted(self._dirty):
            self._versions[i] += 1
            if strategy == "cycle" or i in self._exhausted:
                continue
            child = self._child(i)
            total = self._totals[i]
            if total is None:
                total = self._totals[i] = child.npoints + len(child.pending_points)
            if strategy == "loss_improvements":
                proposal = self._proposals[i]
                if proposal is None:
                    points, improvements = child.ask(n=1, tell_pending=False)
                    if len(points) == 0:
                        self._exhausted.add(i)
                        continue
                    proposal = self._proposals[i] = (points[0], improvements[0])
                key: tuple = (*_rank(proposal[1], i), total, i, self._versions[i])
            elif strategy == "loss":
                if self._pending_losses[i] is None:
                    self._pending_losses[i] = child.loss(False)
                    self._missing_pending.discard(i)
                key = (*_rank(self._pending_losses[i], i), total, i, self._versions[i])
            else:  # npoints
                key = (total, i, self._versions[i])
            heapq.heappush(heap, key)
        self._dirty.clear()
        if len(heap) > 2 * self._n + 32:
            # Stale entries pile up behind the top; drop them now and then.
            self._heap = [e for e in heap if e[-1] == self._versions[e[-2]]]
            heapq.heapify(self._heap)

    def _top(self) -> Optional[int]:
        heap = self._heap
        versions = self._versions
        while heap:
            entry = heap[0]
            if versions[entry[-2]] == entry[-1]:
                return entry[-2]
            heapq.heappop(heap)
        return None

    def _set_aside(self, i: int) -> None:
        """Child i has nothing to propose: out of the ranking until it changes."""
        self._exhausted.add(i)
        self._versions[i] += 1

    # --- choosing ----------------------------------------------------------

    def _pick(self, mark: bool) -> Optional[tuple[int, Any, Any]]:
        """The next (index, point, loss improvement) by the strategy.

        With ``mark`` the way python-adaptive gets a point is followed (the
        child's own ``ask(1)`` where it has no cached proposal); without it
        nothing is marked pending.
        """
        self._sync()
        n = self._n
        if self._strategy == "cycle":
            for k in range(n):
                i = (self._cycle_position + k) % n
                child = self._child_to_change(i) if mark else self._child(i)
                points, improvements = child.ask(n=1, tell_pending=mark)
                if len(points):
                    if mark:
                        self._cycle_position += k + 1
                    return i, points[0], improvements[0]
            if mark:
                self._cycle_position += n
            return None
        while True:
            i = self._top()
            if i is None:
                return None
            proposal = self._proposals[i]
            if proposal is None:
                child = self._child_to_change(i) if mark else self._child(i)
                points, improvements = child.ask(n=1, tell_pending=mark)
                if len(points) == 0:
                    self._set_aside(i)
                    continue
                proposal = (points[0], improvements[0])
                if not mark:
                    self._proposals[i] = proposal
            return i, proposal[0], proposal[1]

    def _ask_marking(self, n: int) -> tuple[list[tuple[int, Any]], list[Any]]:
        points: list[tuple[int, Any]] = []
        improvements: list[Any] = []
        touched: set[int] = set()
        try:
            for _ in range(n):
                choice = self._pick(mark=True)
                if choice is None:
                    break
                i, point, improvement = choice
                points.append((i, point))
                improvements.append(improvement)
                self._child_to_change(i).tell_pending(point)
                total = self._totals[i]
                self._forget(i, told=False)
                # Within one ask each point handed out counts one more for
                # its learner, whatever the learner reports (adaptive's rule).
                if total is not None:
                    self._totals[i] = total + 1
                touched.add(i)
        finally:
            for i in touched:
                self._totals[i] = None
                self._dirty.add(i)
        return points, improvements

    def _ask_simulated(self, n: int) -> tuple[list[tuple[int, Any]], list[Any]]:
        saved = (
            list(self._proposals),
            list(self._totals),
            list(self._real_losses),
            set(self._missing_real),
            set(self._exhausted),
            set(self._dirty),
            list(self._versions),
            list(self._heap),
            self._heap_strategy,
            self._cycle_position,
        )
        self._overlay = {}
        try:
            return self._ask_marking(n)
        finally:
            self._overlay = None
            (
                self._proposals,
                self._totals,
                self._real_losses,
                self._missing_real,
                self._exhausted,
                self._dirty,
                self._versions,
                self._heap,
                self._heap_strategy,
                self._cycle_position,
            ) = saved
            # Losses with pending points computed meanwhile were computed
            # before any child changed (pending marks do not refresh them),
            # so they hold for the real children and stay, as in adaptive.
            self._missing_pending = {i for i in self._missing_pending if self._pending_losses[i] is None}

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[tuple[int, Any]], list[Any]]:
        """Chooses ``n`` points, as ``([(index, x), ...], [loss_improvement, ...])``.

        The points are picked one at a time by the strategy, each marked
        pending in its learner before the next is picked. With
        ``tell_pending=False`` nothing changes: the same points are returned
        but the learners are left as they were. Fewer than ``n`` points come
        back only when no learner has anything left to propose.
        """
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"ask: n must be >= 0, got {n}")
        if n == 0:
            return [], []
        if not self.learners:
            raise ValueError("ask: the BalancingLearner has no learners")
        if tell_pending:
            return self._ask_marking(n)
        if n == 1:
            choice = self._pick(mark=False)
            return ([], []) if choice is None else ([(choice[0], choice[1])], [choice[2]])
        return self._ask_simulated(n)

    # --- telling -----------------------------------------------------------

    def _split(self, x: tuple[int, Any]) -> tuple[int, Any]:
        try:
            index, point = x
        except TypeError:
            raise TypeError(f"a BalancingLearner's points are (learner_index, x) pairs, got {x!r}") from None
        except ValueError:
            raise ValueError(f"a BalancingLearner's points are (learner_index, x) pairs, got {x!r}") from None
        i = operator.index(index)
        if not 0 <= i < len(self.learners):
            raise IndexError(
                f"learner index {index} out of range: the BalancingLearner has {len(self.learners)} learners"
            )
        return i, point

    def tell(self, x: tuple[int, Any], y: Any) -> None:
        """Tells learner ``index`` its value ``y`` at ``point``, where ``x = (index, point)``."""
        i, point = self._split(x)
        self._forget(i, told=True)
        self.learners[i].tell(point, y)

    def tell_many(self, xs: Iterable[tuple[int, Any]], ys: Iterable[Any]) -> None:
        """Tells several values, one ``tell`` each, in order."""
        xs = list(xs)
        ys = list(ys)
        if len(xs) != len(ys):
            raise ValueError(f"tell_many: {len(xs)} points but {len(ys)} values")
        for x, y in zip(xs, ys):
            self.tell(x, y)

    def tell_pending(self, x: tuple[int, Any]) -> None:
        """Marks ``x = (index, point)`` as being evaluated, so it is not proposed again."""
        i, point = self._split(x)
        self._forget(i, told=False)
        self.learners[i].tell_pending(point)

    def remove_unfinished(self) -> None:
        """Drops every learner's pending points."""
        for learner in self.learners:
            learner.remove_unfinished()
        self._forget_all()

    # --- state ---------------------------------------------------------------

    @property
    def strategy(self) -> StrategyType:
        """"loss_improvements", "loss", "npoints" or "cycle" (see the class); settable.

        Setting it (to "cycle" in particular) starts the cycle again at learner 0.
        """
        return self._strategy  # type: ignore[return-value]

    @strategy.setter
    def strategy(self, strategy: StrategyType) -> None:
        if strategy not in _STRATEGIES:
            raise ValueError(
                f"unknown strategy {strategy!r}: use 'loss_improvements', 'loss', 'npoints' or 'cycle'"
            )
        self._strategy = strategy
        self._cycle_position = 0

    def loss(self, real: bool = True) -> float:
        """The largest loss of the learners (``real=False``: counting pending points).

        Each learner's loss is cached until it changes; as in python-adaptive
        the loss with pending points is refreshed when the learner is told a
        value, not when a point is marked pending.
        """
        if not self.learners:
            raise ValueError("loss: the BalancingLearner has no learners")
        if len(self.learners) != self._n:
            self._sync()
        values, missing = (
            (self._real_losses, self._missing_real) if real else (self._pending_losses, self._missing_pending)
        )
        for i in missing:
            values[i] = self.learners[i].loss(real)
        missing.clear()
        loss = max(values)
        self._cache["loss"] = loss
        return loss

    @property
    def npoints(self) -> int:
        """The number of evaluated points, all learners together."""
        return sum(learner.npoints for learner in self.learners)

    @property
    def nsamples(self) -> int:
        """The number of samples, all learners together (for learners that count samples)."""
        if self.learners and hasattr(self.learners[0], "nsamples"):
            return sum(learner.nsamples for learner in self.learners)
        kind = type(self.learners[0]).__name__ if self.learners else "an empty BalancingLearner"
        raise AttributeError(f"{kind} has no attribute 'nsamples'")

    @property
    def data(self) -> dict[tuple[int, Any], Any]:
        """Every learner's data in one dict, keyed by ``(index, x)`` (a new dict each time)."""
        data: dict[tuple[int, Any], Any] = {}
        for i, learner in enumerate(self.learners):
            data.update(((i, x), y) for x, y in learner.data.items())
        return data

    @property
    def pending_points(self) -> set[tuple[int, Any]]:
        """Every learner's pending points, as ``(index, x)`` (a new set each time)."""
        pending: set[tuple[int, Any]] = set()
        for i, learner in enumerate(self.learners):
            pending.update((i, x) for x in learner.pending_points)
        return pending

    # --- saving --------------------------------------------------------------

    def _file_names(self, fname: Union[Callable[[Any], str], Iterable[str]]) -> list[Any]:
        if isinstance(fname, (str, bytes, os.PathLike)):
            raise TypeError(
                "a BalancingLearner saves each learner in its own file: pass a sequence of file names "
                "(one per learner) or a function learner -> file name, not a single name"
            )
        if isinstance(fname, Iterable):
            names = list(fname)
            if len(names) != len(self.learners):
                raise ValueError(f"{len(names)} file names for {len(self.learners)} learners")
            return names
        if callable(fname):
            return [fname(learner) for learner in self.learners]
        raise TypeError(f"fname must be a sequence of file names or a callable, got {type(fname).__name__}")

    def save(self, fname: Union[Callable[[Any], str], Iterable[str]], compress: bool = True) -> None:
        """Saves each learner's data in its own file, in python-adaptive's format.

        ``fname`` is a sequence of file names, one per learner, or a function
        that gives a learner's file name, e.g.::

            def file_name(learner):
                combo = learner.function.keywords  # from_product's partial
                return "data/" + "__".join(f"{k}_{v}" for k, v in combo.items()) + ".pickle"

            learner.save(file_name)  # and learner.load(file_name) later
        """
        for learner, name in zip(self.learners, self._file_names(fname)):
            learner.save(name, compress=compress)

    def load(self, fname: Union[Callable[[Any], str], Iterable[str]], compress: bool = True) -> None:
        """Loads each learner's data from the files :meth:`save` wrote (missing files are skipped)."""
        names = self._file_names(fname)
        try:
            for learner, name in zip(self.learners, names):
                learner.load(name, compress=compress)
        finally:
            self._forget_all()

    def _get_data(self) -> list[Any]:
        return [learner._get_data() for learner in self.learners]

    def _set_data(self, data: Sequence[Any]) -> None:
        data = list(data)
        if len(data) != len(self.learners):
            raise ValueError(f"data for {len(data)} learners given to a BalancingLearner of {len(self.learners)}")
        try:
            for learner, d in zip(self.learners, data):
                learner._set_data(d)
        finally:
            self._forget_all()

    def copy_from(self, other: "BalancingLearner") -> None:
        """Tells every learner what the matching learner of ``other`` learned."""
        self._set_data(other._get_data())

    def __getstate__(self) -> tuple:
        return (
            self.learners,
            self._cdims_default,
            self._strategy,
            self._cycle_position,
            list(self._pending_losses),
        )

    def __setstate__(self, state: tuple) -> None:
        learners, cdims, strategy, cycle_position, pending_losses = state
        self.__init__(learners, cdims=cdims, strategy=strategy)  # type: ignore[misc]
        self._cycle_position = cycle_position
        # The losses with pending points are kept: the "loss" strategy's
        # choices depend on when they were computed.
        if len(pending_losses) == len(self.learners):
            self._pending_losses = list(pending_losses)
            self._missing_pending = {i for i, v in enumerate(pending_losses) if v is None}

    # --- dataframes ----------------------------------------------------------

    def to_dataframe(self, index_name: str = "learner_index", **kwargs: Any) -> Any:
        """All learners' data as one pandas DataFrame.

        Each learner's ``to_dataframe(**kwargs)`` with a first column
        ``index_name`` holding the learner's index.
        """
        pandas = require_pandas()
        frames = []
        for i, learner in enumerate(self.learners):
            df = learner.to_dataframe(**kwargs)
            columns = list(df.columns)
            df[index_name] = i
            frames.append(df[[index_name, *columns]])
        if not frames:
            return pandas.DataFrame(columns=[index_name])
        return pandas.concat(frames, axis=0, ignore_index=True)

    def load_dataframe(self, df: Any, index_name: str = "learner_index", **kwargs: Any) -> None:
        """Tells each learner its rows of ``df`` (as written by :meth:`to_dataframe`)."""
        try:
            for i, group in df.groupby(index_name):
                self.learners[self._split((i, None))[0]].load_dataframe(group, **kwargs)
        finally:
            self._forget_all()
            # Loading may bind default arguments to the children's functions.
            self.function = partial(dispatch, self._child_functions())

    # --- plotting ------------------------------------------------------------

    def _labels(self, cdims: CdimsType) -> list[str]:
        cdims = cdims if cdims is not None else self._cdims_default
        if cdims is None:
            return [f"learner {i}" for i in range(len(self.learners))]
        if len(cdims) and not isinstance(cdims[0], dict):  # type: ignore[index]
            names, values = cdims  # type: ignore[misc]
            cdims = [dict(zip(names, v)) for v in values]
        return [", ".join(f"{k}={v}" for k, v in d.items()) for d in cdims]  # type: ignore[union-attr]

    def plot(
        self,
        cdims: CdimsType = None,
        plotter: Optional[Callable[[Any, Any], Any]] = None,
        dynamic: bool = True,
        *,
        ncols: Optional[int] = None,
    ) -> Any:
        """Draws every learner in its own matplotlib Axes and returns the Figure.

        python-adaptive returns a holoviews map with sliders over ``cdims``;
        here each learner gets one panel of a grid, titled with its
        parameters from ``cdims`` (or the constructor's ``cdims``).
        ``plotter(learner, ax)`` draws a learner; by default
        ``learner.plot(ax=ax)``. ``dynamic`` is accepted for compatibility
        and ignored. ``ncols`` sets the number of panels per row.
        """
        plt = require_matplotlib()
        labels = self._labels(cdims)
        count = max(len(self.learners), 1)
        ncols = ncols or math.ceil(math.sqrt(count))
        nrows = math.ceil(count / ncols)
        figure, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(3.2 * ncols, 2.6 * nrows))
        flat = list(axes.flat)
        for ax, learner, label in zip(flat, self.learners, labels):
            if plotter is not None:
                plotter(learner, ax)
            else:
                try:
                    takes_ax = "ax" in inspect.signature(learner.plot).parameters
                except (AttributeError, TypeError, ValueError):
                    takes_ax = False
                if not takes_ax:
                    raise TypeError(
                        f"{type(learner).__name__}.plot() cannot draw into a given matplotlib Axes; "
                        "pass plotter=lambda learner, ax: ..."
                    )
                learner.plot(ax=ax)
            ax.set_title(label, fontsize="small")
        for ax in flat[len(self.learners):]:
            ax.set_visible(False)
        figure.tight_layout()
        return figure

    def __repr__(self) -> str:
        return (
            f"<BalancingLearner of {len(self.learners)} learners, strategy={self._strategy!r}, "
            f"npoints={self.npoints}>"
        )
