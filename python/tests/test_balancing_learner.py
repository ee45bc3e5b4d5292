"""BalancingLearner: the same choices as python-adaptive's, and the rest of its API.

The reference file data/balancing_learner_reference.json holds the points
python-adaptive 1.5.2's BalancingLearner chose over its Learner1Ds, so the
choices are checked without python-adaptive installed. It was written by
running this file as a script with python-adaptive importable:

    PYTHONPATH=python:/root/.cache/adaptive-shim:/root/.cache/adaptive-src \\
        python3 python/tests/test_balancing_learner.py --regenerate
"""

from __future__ import annotations

import json
import math
import pickle
import sys
from functools import partial
from pathlib import Path
from typing import Any, Callable

import pytest

import cloudpickle

from taskmaster.learner.balancing_learner import BalancingLearner, dispatch
from taskmaster.learner.learner1D import Learner1D
from taskmaster.learner.sequence_learner import SequenceLearner

REFERENCE = Path(__file__).resolve().parent / "data" / "balancing_learner_reference.json"
STRATEGIES = ["loss_improvements", "loss", "npoints", "cycle"]


def linear(x: float) -> float:
    return 2 * x


def peak(x: float, a: float = 0.01) -> float:
    return x + a**2 / (a**2 + x**2)


def gentle(x: float) -> float:
    return x + 0.2 * x**2


FUNCTIONS = [linear, peak, gentle]


def shifted_peak(x: float, offset: float, width: float = 0.05) -> float:
    return width**2 / (width**2 + (x - offset) ** 2)


def drive(learner: Any, steps: int = 60, switch: bool = False, functions: list = FUNCTIONS) -> list[dict]:
    """A fixed run: batches of 1, 2, 3 points, the newest point of most
    batches left pending for a step, the losses read after every step, and
    (with ``switch``) the strategy changed every 7 steps. Returns what the
    learner chose, in JSON-able form."""
    record = []
    pending: list = []
    for k in range(steps):
        if switch and k % 7 == 6:
            learner.strategy = STRATEGIES[(k // 7) % 4]
        points, improvements = learner.ask(1 + k % 3)
        pending.extend(points)
        keep = pending[-1:] if k % 4 else []
        for p in pending[: len(pending) - len(keep)]:
            learner.tell(p, functions[p[0]](p[1]))
        pending = keep
        record.append(
            {
                "asked": [[int(i), float(x)] for i, x in points],
                "improvements": [float(v) for v in improvements],
                "loss": float(learner.loss()),
                "pending_loss": float(learner.loss(real=False)),
            }
        )
    return record


def ours(strategy: str = "loss_improvements", functions: list = FUNCTIONS, bounds=(-1, 1)) -> BalancingLearner:
    return BalancingLearner([Learner1D(f, bounds) for f in functions], strategy=strategy)


def run(learner: Any, npoints: int) -> None:
    while learner.npoints < npoints:
        points, _ = learner.ask(1)
        for p in points:
            learner.tell(p, learner.function(p))


@pytest.fixture
def adaptive():
    return pytest.importorskip("adaptive")


# --- the choices, against python-adaptive --------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_choices_as_adaptive(adaptive, strategy):
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    assert drive(ours(strategy)) == drive(theirs)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_choices_as_adaptive_over_adaptive_children(adaptive, strategy):
    # The balancing alone: both balance python-adaptive's own Learner1Ds.
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    mine = BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    assert drive(mine, steps=80) == drive(theirs, steps=80)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategy_switching_matches_adaptive(adaptive, strategy):
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    assert drive(ours(strategy), steps=70, switch=True) == drive(theirs, steps=70, switch=True)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_many_children_with_ties_match_adaptive(adaptive, strategy):
    # Several identical children: every choice among them is a tie, settled
    # by the number of points and then by the index.
    offsets = [0.0, 0.3, 0.3, 0.3, -0.5, 0.3, 0.0, 0.7] * 3
    functions = [partial(shifted_peak, offset=o) for o in offsets]
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in functions], strategy=strategy)
    assert drive(ours(strategy, functions), steps=90, functions=functions) == drive(
        theirs, steps=90, functions=functions
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ask_without_pending_returns_what_adaptive_returns(adaptive, strategy):
    mine = ours(strategy)
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    drive(theirs, steps=12)
    drive(mine, steps=12)
    data, pending = mine.data, mine.pending_points
    assert pending
    expected = theirs.ask(5, tell_pending=False)
    assert mine.ask(5, tell_pending=False) == expected
    assert mine.ask(1, tell_pending=False) == ([expected[0][0]], [expected[1][0]])
    assert mine.data == data and mine.pending_points == pending
    # ... and changes nothing: asking for real gives the same points.
    assert mine.ask(5) == expected


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ask_without_pending_leaves_adaptive_children_alone(adaptive, strategy):
    mine = BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
    drive(mine, steps=12)
    children = [(dict(c.data), set(c.pending_points), dict(c.losses_combined)) for c in mine.learners]
    points, _ = mine.ask(6, tell_pending=False)
    assert len(set(points)) == 6 and not set(points) & mine.pending_points
    assert [(dict(c.data), set(c.pending_points), dict(c.losses_combined)) for c in mine.learners] == children


def test_same_loss_as_adaptive_with_pending_points(adaptive):
    # python-adaptive's own test: real and pending losses cached apart.
    for make in (adaptive.Learner1D, Learner1D):
        learner = make(linear, bounds=(-1, 1))
        learner.tell(-1, -2)
        learner.tell(1, 2)
        learner.tell_pending(0)
        real, pending = learner.loss(real=True), learner.loss(real=False)
        bl = BalancingLearner([learner])
        assert bl.loss(real=True) == real and bl.loss(real=False) == pending
        bl = BalancingLearner([learner])
        assert bl.loss(real=False) == pending and bl.loss(real=True) == real


class Scripted:
    """A learner whose k-th point (x = k) has the loss improvement values[k]
    and whose loss is that of its next point: a way to set up ties and NaNs."""

    def __init__(self, function: Callable, values: list[float]) -> None:
        self.function = function
        self.values = values
        self.data: dict = {}
        self.pending_points: set = set()

    @property
    def npoints(self) -> int:
        return len(self.data)

    def _value(self, k: int) -> float:
        return self.values[min(k, len(self.values) - 1)]

    def ask(self, n: int, tell_pending: bool = True):
        start = len(self.data) + len(self.pending_points)
        points = [float(start + j) for j in range(n)]
        if tell_pending:
            self.pending_points.update(points)
        return points, [self._value(start + j) for j in range(n)]

    def tell_pending(self, x: float) -> None:
        self.pending_points.add(x)

    def tell(self, x: float, y: float) -> None:
        self.pending_points.discard(x)
        self.data[x] = y

    def loss(self, real: bool = True) -> float:
        return self._value(len(self.data) + (0 if real else len(self.pending_points)))

    def remove_unfinished(self) -> None:
        self.pending_points = set()


NAN = math.nan
SCRIPTS = {
    "nan first": [[NAN, 1.0, 0.5], [2.0, 2.0, 2.0], [3.0, 0.1]],
    "nan later": [[1.0, 0.5, 0.2], [NAN, NAN, 5.0], [0.7, 0.7, 0.7, 0.1]],
    "ties": [[1.0, 1.0, 0.5], [1.0, 0.5], [1.0, 1.0, 1.0, 0.2], [math.inf, 1.0]],
}


def scripted_run(make, strategy: str, script: list) -> list:
    learner = make([Scripted(linear, values) for values in script], strategy=strategy)
    chosen = []
    for k in range(12):
        points, improvements = learner.ask(1 + k % 2)
        chosen.append([points, [repr(v) for v in improvements]])
        for p in points[: 1 if k % 3 else 2]:
            learner.tell(p, 0.0)
    return chosen


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nans_and_ties_as_adaptive(adaptive, strategy, script):
    assert scripted_run(BalancingLearner, strategy, SCRIPTS[script]) == scripted_run(
        adaptive.BalancingLearner, strategy, SCRIPTS[script]
    )


def test_nan_rule():
    # Python's max keeps a NaN that comes first and never takes a later one.
    learner = BalancingLearner([Scripted(linear, v) for v in ([NAN], [5.0], [6.0])])
    assert [i for i, _ in learner.ask(4)[0]] == [0, 0, 0, 0]
    learner = BalancingLearner([Scripted(linear, v) for v in ([1.0], [NAN], [0.5])])
    assert [i for i, _ in learner.ask(4)[0]] == [0, 0, 0, 0]
    learner = BalancingLearner([Scripted(linear, v) for v in ([1.0, 0.1], [NAN], [0.5])], strategy="loss")
    assert [i for i, _ in learner.ask(3)[0]] == [0, 0, 0]


# --- the choices, against the recorded run -------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_matches_recorded_adaptive_choices(strategy):
    reference = json.loads(REFERENCE.read_text())
    expected = reference["runs"][strategy]
    assert len(expected) == reference["steps"]
    assert json.loads(json.dumps(drive(ours(strategy), steps=reference["steps"]))) == expected


def test_recorded_switching_run():
    reference = json.loads(REFERENCE.read_text())
    got = drive(ours("loss"), steps=reference["steps"], switch=True)
    assert json.loads(json.dumps(got)) == reference["runs"]["switching from loss"]


def test_hard_function_gets_the_most_points():
    for strategy in ("loss_improvements", "loss"):
        learner = ours(strategy)
        run(learner, 300)
        counts = [child.npoints for child in learner.learners]
        assert counts[1] == max(counts) and counts[1] > counts[0] + 40, counts
    learner = ours("npoints")
    run(learner, 300)
    assert [child.npoints for child in learner.learners] == [100, 100, 100]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ties_go_to_fewer_points_then_lower_index(strategy):
    learner = ours(strategy, functions=[linear, linear, linear])
    points, improvements = learner.ask(7)
    assert [i for i, _ in points] == [0, 1, 2, 0, 1, 2, 0]
    assert [x for i, x in points[:3]] == [-1.0, -1.0, -1.0]
    assert len(set(points)) == 7
    assert improvements[0] == math.inf


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_first_points_spread_over_all_learners(strategy):
    learner = ours(strategy, functions=[linear] * 10)
    points, _ = learner.ask(3)
    learner.tell_many(points, [linear(x) for _, x in points])
    points, _ = learner.ask(100)
    assert {i for i, _ in points} == set(range(10))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ask_without_pending_changes_nothing(strategy):
    learner = ours(strategy)
    drive(learner, steps=9)
    data, pending = learner.data, learner.pending_points
    children = [(dict(c.data), c.pending_points) for c in learner.learners]
    preview = learner.ask(4, tell_pending=False)
    one = learner.ask(1, tell_pending=False)
    assert learner.data == data and learner.pending_points == pending
    assert [(dict(c.data), c.pending_points) for c in learner.learners] == children
    assert one == ([preview[0][0]], [preview[1][0]])
    assert learner.ask(4) == preview


# --- cost: only the learner that changed is asked again ----------------------------


class CountingLearner:
    """A Learner1D that counts the calls of its ask."""

    asks = 0

    def __init__(self, function: Callable, bounds: tuple) -> None:
        self.inner = Learner1D(function, bounds)
        self.function = function

    def ask(self, n: int, tell_pending: bool = True):
        CountingLearner.asks += 1
        return self.inner.ask(n, tell_pending=tell_pending)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


@pytest.mark.parametrize("strategy", ["loss_improvements", "loss", "npoints"])
def test_a_step_asks_one_learner(strategy):
    offsets = [k / 100 for k in range(-50, 50)]
    learner = BalancingLearner(
        [CountingLearner(partial(shifted_peak, offset=o), (-1, 1)) for o in offsets], strategy=strategy
    )
    run(learner, 300)
    CountingLearner.asks = 0
    for _ in range(200):
        (point,), _ = learner.ask(1)
        learner.tell(point, learner.function(point))
    # python-adaptive's ask asks every learner whose cache is empty; here
    # one learner (the one told) is asked per step, at most twice.
    assert CountingLearner.asks <= 2 * 200


# --- the rest of the API ------------------------------------------------------------


def test_learners_with_nothing_to_propose_are_passed_over():
    learner = BalancingLearner([SequenceLearner(math.sqrt, range(3)), SequenceLearner(math.sqrt, range(5))])
    points, _ = learner.ask(100)
    assert sorted(points) == [(0, (k, k)) for k in range(3)] + [(1, (k, k)) for k in range(5)]
    assert learner.ask(1) == ([], [])
    learner.tell_many(points, [learner.function(p) for p in points])
    assert learner.loss() == 0.0
    assert learner.learners[1].result() == [math.sqrt(k) for k in range(5)]
    for strategy in STRATEGIES:
        fresh = BalancingLearner([SequenceLearner(math.sqrt, range(2)), SequenceLearner(math.sqrt, range(1))])
        fresh.strategy = strategy
        assert len(fresh.ask(5)[0]) == 3 and fresh.ask(2) == ([], [])


def test_from_product():
    def f(x, a, b):
        return a * x + b

    learner = BalancingLearner.from_product(f, Learner1D, {"bounds": (-1, 1)}, {"a": [1, 2], "b": [0, 5, 7]})
    combos = [{"a": a, "b": b} for a in (1, 2) for b in (0, 5, 7)]
    assert len(learner.learners) == 6
    assert [child.function.keywords for child in learner.learners] == combos
    assert learner._cdims_default == combos
    assert all(child.bounds == (-1.0, 1.0) for child in learner.learners)
    assert learner.function((4, 0.5)) == f(0.5, a=2, b=5)
    run(learner, 60)
    assert all(child.npoints > 0 for child in learner.learners)


def test_function_dispatches_and_pickles():
    learner = ours()
    assert learner.function((1, 0.3)) == peak(0.3)
    assert learner.function.func is dispatch
    again = pickle.loads(pickle.dumps(learner.function))
    assert [again((i, 0.25)) for i in range(3)] == [f(0.25) for f in FUNCTIONS]


def test_data_pending_points_npoints():
    learner = ours()
    points, _ = learner.ask(6)
    assert learner.pending_points == set(points)
    learner.tell(points[0], FUNCTIONS[points[0][0]](points[0][1]))
    assert learner.data == {points[0]: FUNCTIONS[points[0][0]](points[0][1])}
    assert learner.pending_points == set(points[1:])
    assert learner.npoints == 1
    with pytest.raises(AttributeError, match="nsamples"):
        learner.nsamples


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_remove_unfinished(strategy):
    learner = ours(strategy)
    drive(learner, steps=5)
    first, _ = learner.ask(4)
    learner.remove_unfinished()
    assert learner.pending_points == set()
    if strategy != "cycle":  # the cycle moved on
        assert learner.ask(4)[0] == first


def test_loss_is_the_largest_child_loss():
    learner = ours()
    drive(learner, steps=20)
    assert learner.loss() == max(child.loss() for child in learner.learners)
    assert learner.loss(real=False) <= learner.loss()
    assert learner._cache["loss"] == learner.loss(real=False)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_pickle_asks_the_same_points(strategy):
    learner = ours(strategy)
    drive(learner, steps=16)
    # Learners pickle without their pending points (python-adaptive's rule).
    learner.tell_many(list(learner.pending_points), [FUNCTIONS[i](x) for i, x in learner.pending_points])
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.strategy == strategy
    assert copy.data == learner.data and copy.pending_points == learner.pending_points
    assert copy.loss() == learner.loss()
    assert copy.ask(10) == learner.ask(10)
    assert drive(copy, steps=10) == drive(learner, steps=10)


def test_cloudpickle_with_lambdas():
    learner = BalancingLearner([Learner1D(lambda x: x**3, (-1, 1)), Learner1D(lambda x: -x, (0, 2))], cdims=[{"k": 1}, {"k": 2}])
    run(learner, 20)
    copy = cloudpickle.loads(cloudpickle.dumps(learner))
    assert copy._cdims_default == [{"k": 1}, {"k": 2}]
    assert copy.function((0, 0.5)) == 0.125 and copy.function((1, 0.5)) == -0.5
    assert copy.ask(5) == learner.ask(5)


def test_new_and_copy_from():
    learner = ours("npoints")
    run(learner, 30)
    fresh = learner.new()
    assert fresh.npoints == 0 and fresh.strategy == "npoints" and len(fresh.learners) == 3
    assert [c.bounds for c in fresh.learners] == [c.bounds for c in learner.learners]
    fresh.copy_from(learner)
    assert fresh.data == learner.data
    assert fresh.ask(3) == learner.ask(3)


def test_save_and_load_with_a_list_and_a_callable(tmp_path):
    learner = ours()
    run(learner, 40)
    names = [str(tmp_path / f"child{i}.pickle") for i in range(3)]
    learner.save(names)
    assert all(Path(n).exists() for n in names)
    fresh = learner.new()
    fresh.load(names)
    assert fresh.data == learner.data
    assert fresh.ask(4) == learner.ask(4)

    def by_function(child):
        return str(tmp_path / "by_name" / f"{child.function.__name__}.gz")

    learner.save(by_function, compress=True)
    other = learner.new()
    other.load(by_function)
    assert other.data == learner.data
    assert sorted(p.name for p in (tmp_path / "by_name").iterdir()) == ["gentle.gz", "linear.gz", "peak.gz"]

    missing = learner.new()
    missing.load([str(tmp_path / "nothing") for _ in range(3)])
    assert missing.npoints == 0


def test_save_refuses_a_single_name_and_wrong_counts(tmp_path):
    learner = ours()
    with pytest.raises(TypeError, match="one per learner"):
        learner.save(str(tmp_path / "all.pickle"))
    with pytest.raises(TypeError):
        learner.load(tmp_path / "all.pickle")
    with pytest.raises(ValueError, match="2 file names for 3 learners"):
        learner.save([str(tmp_path / "a"), str(tmp_path / "b")])


def test_saved_files_load_into_adaptive(adaptive, tmp_path):
    learner = ours()
    run(learner, 40)
    names = [str(tmp_path / f"{i}.p") for i in range(3)]
    learner.save(names)
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS])
    theirs.load(names)
    assert theirs.data == learner.data


def test_dataframe_round_trip():
    pytest.importorskip("pandas")
    learner = ours()
    run(learner, 30)
    df = learner.to_dataframe(with_default_function_args=False)
    assert list(df.columns) == ["learner_index", "x", "y"]
    assert len(df) == 30
    assert sorted(df["learner_index"].unique()) == [0, 1, 2]
    fresh = learner.new()
    fresh.load_dataframe(df, with_default_function_args=False)
    assert fresh.data == learner.data
    named = learner.to_dataframe(index_name="which", x_name="t", with_default_function_args=False)
    assert list(named.columns) == ["which", "t", "y"]
    other = learner.new()
    other.load_dataframe(named, index_name="which", x_name="t", with_default_function_args=False)
    assert other.data == learner.data


def test_dataframe_binds_default_arguments():
    pytest.importorskip("pandas")
    learner = ours(functions=[peak, peak])
    run(learner, 20)
    df = learner.to_dataframe()
    assert list(df.columns) == ["learner_index", "x", "y", "function.a"]
    df["function.a"] = 0.5
    fresh = learner.new()
    with pytest.warns(UserWarning, match="a=0.5"):
        fresh.load_dataframe(df)
    assert fresh.data == learner.data
    # The children now evaluate with a=0.5, and so does the BalancingLearner.
    assert fresh.learners[1].function(0.2) == peak(0.2, a=0.5)
    assert fresh.function((1, 0.2)) == peak(0.2, a=0.5)


def test_dataframe_columns_as_adaptive(adaptive):
    pandas = pytest.importorskip("pandas")
    theirs = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS])
    mine = ours()
    drive(theirs, steps=10)
    drive(mine, steps=10)
    a = theirs.to_dataframe().sort_values(["learner_index", "x"]).reset_index(drop=True)
    b = mine.to_dataframe().sort_values(["learner_index", "x"]).reset_index(drop=True)
    pandas.testing.assert_frame_equal(a, b)


def test_bad_input():
    with pytest.raises(ValueError, match="strategy"):
        ours("fastest")
    learner = ours()
    with pytest.raises(ValueError, match="strategy"):
        learner.strategy = "best"
    assert learner.strategy == "loss_improvements"
    with pytest.raises(TypeError, match="one class"):
        BalancingLearner([Learner1D(linear, (-1, 1)), SequenceLearner(linear, [1])])
    with pytest.raises(AttributeError, match="function"):
        BalancingLearner([object()])
    with pytest.raises(IndexError, match="out of range"):
        learner.tell((3, 0.0), 1.0)
    with pytest.raises(IndexError, match="out of range"):
        learner.tell_pending((-1, 0.0))
    with pytest.raises(TypeError, match="learner_index, x"):
        learner.tell(0.5, 1.0)
    with pytest.raises(ValueError, match="learner_index, x"):
        learner.tell((0, 0.5, 1), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        learner.ask(-1)
    with pytest.raises(TypeError):
        learner.ask(1.5)
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many([(0, 0.0), (1, 0.0)], [1.0])
    empty = BalancingLearner([])
    assert empty.ask(0) == ([], [])
    with pytest.raises(ValueError, match="no learners"):
        empty.ask(1)
    with pytest.raises(ValueError, match="no learners"):
        empty.loss()


def test_learners_list_edited_in_place():
    learner = ours()
    run(learner, 10)
    learner.learners.append(Learner1D(linear, (0, 1)))
    points, _ = learner.ask(20)
    assert 3 in {i for i, _ in points}
    assert learner.function((3, 0.5)) == 1.0


def test_plot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    learner = BalancingLearner.from_product(shifted_peak, Learner1D, {"bounds": (-1, 1)}, {"offset": [0, 0.5], "width": [0.1]})
    run(learner, 20)
    figure = learner.plot()
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["offset=0, width=0.1", "offset=0.5, width=0.1"]
    assert all(len(ax.collections) == 1 for ax in visible)
    drawn = []
    figure = learner.plot(cdims=(["o"], [(1,), (2,)]), plotter=lambda child, ax: drawn.append(child), ncols=1)
    assert drawn == learner.learners
    assert [ax.get_title() for ax in figure.axes] == ["o=1", "o=2"]
    import matplotlib.pyplot as plt

    plt.close("all")


def test_learner2d_children():
    try:
        from taskmaster.learner.learner2D import Learner2D
    except ImportError as error:
        pytest.skip(f"Learner2D does not import: {error}")

    def ring(xy, r):
        x, y = xy
        return math.exp(-((x * x + y * y - r * r) ** 2) / 0.01)

    learner = BalancingLearner.from_product(ring, Learner2D, {"bounds": [(-1, 1), (-1, 1)]}, {"r": [0.2, 0.5, 0.8]})
    run(learner, 150)
    assert all(child.npoints >= 10 for child in learner.learners)
    for (i, xy), value in learner.data.items():
        assert value == ring(xy, r=[0.2, 0.5, 0.8][i])
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.ask(5) == learner.ask(5)


# --- writing the reference file -------------------------------------------------------


def _regenerate() -> None:
    import adaptive

    steps = 60
    runs = {}
    for strategy in STRATEGIES:
        learner = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy=strategy)
        runs[strategy] = drive(learner, steps=steps)
    learner = adaptive.BalancingLearner([adaptive.Learner1D(f, (-1, 1)) for f in FUNCTIONS], strategy="loss")
    runs["switching from loss"] = drive(learner, steps=steps, switch=True)
    reference = {
        "generated_by": (
            "PYTHONPATH=python:/root/.cache/adaptive-shim:/root/.cache/adaptive-src "
            "python3 python/tests/test_balancing_learner.py --regenerate"
        ),
        "adaptive_version": adaptive.__version__,
        "what": (
            "python-adaptive's BalancingLearner over Learner1D(f, (-1, 1)) for f in "
            "linear, peak, gentle of test_balancing_learner.py, driven by its drive()"
        ),
        "steps": steps,
        "runs": runs,
    }
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        _regenerate()
    else:
        print(__doc__)
