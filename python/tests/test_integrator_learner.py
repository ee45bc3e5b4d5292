"""IntegratorLearner: agreement with the taskmaster tool's C++ learner and with
python-adaptive, python-adaptive's interface, state round trips and bad input."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from conftest import HELPERS, replay_asks, run_cli
from taskmaster.learner.integrator_learner import DivergentIntegralError, IntegratorLearner, Interval

DATA = Path(__file__).resolve().parent / "data"
PYTHON = sys.executable


def _load_reference_module() -> Any:
    spec = importlib.util.spec_from_file_location("integ_adaptive_reference", HELPERS / "integ_adaptive_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference_module()


class ScalarTells:
    """The tool records every output as a vector; this learner's values are numbers."""

    def __init__(self, learner: Any) -> None:
        self.learner = learner

    def ask(self, n: int) -> Any:
        return self.learner.ask(n)

    def tell(self, x: Any, y: Any) -> None:
        self.learner.tell(x, y[0] if isinstance(y, list) else y)


def run_to_done(learner: IntegratorLearner, f: Callable[[float], float], limit: int = 100_000) -> None:
    """One ask(1) and tell at a time until the learner is done."""
    for _ in range(limit):
        if learner.done():
            return
        xs, _ = learner.ask(1)
        learner.tell(xs[0], f(xs[0]))
    raise AssertionError(f"the learner was not done after {limit} points")


def asks_after(learner: IntegratorLearner, f: Callable[[float], float], n: int) -> list[float]:
    """The next n points asked, each told at once."""
    points = []
    for _ in range(n):
        xs, _ = learner.ask(1)
        points.append(xs[0])
        learner.tell(xs[0], f(xs[0]))
    return points


# --- agreement with the C++ learner (the taskmaster tool) ---------------------


@pytest.mark.parametrize(
    "workers, tol, mode",
    # One program per point is slow to start: few points that way, many through a worker.
    [(1, 1e-8, "worker"), (3, 1e-8, "worker"), (3, 1e-2, "program")],
)
def test_asks_what_the_tool_asked(cli: Path, history: Path, workers: int, tol: float, mode: str) -> None:
    helper = str(HELPERS / "integ_sqrt.py")
    command = ["--worker", f"{PYTHON} -S {helper}"] if mode == "worker" else ["--", PYTHON, "-S", helper, "{x}"]
    events = run_cli(
        cli,
        ["--learner", "integrator", "--bounds", "0,1", "--learner-param", f"tol={tol}", "-j", str(workers), *command],
        history,
    )
    learner = IntegratorLearner(math.sqrt, (0, 1), tol)
    asked = replay_asks(ScalarTells(learner), events)
    assert asked == sum(1 for e in events if e["e"] == "ask") > 30
    assert learner.npoints == sum(1 for e in events if e["e"] == "tell")
    assert learner.done()
    assert abs(learner.igral - 2 / 3) < 10 * max(learner.err, 1e-15)


# --- agreement with python-adaptive --------------------------------------------


def test_matches_recorded_python_adaptive_runs() -> None:
    """python-adaptive 1.5.2's points, recorded in data/ (see the helper for how)."""
    recorded = json.loads((DATA / "integ_adaptive_reference.json").read_text())
    for name, expected in recorded["cases"].items():
        ours = reference.run(IntegratorLearner, name)
        if "points" in expected:
            assert ours["points"] == expected["points"], name
            assert ours["loss_improvements"] == pytest.approx(expected["loss_improvements"], rel=1e-7), name
        assert ours["points_sha256"] == expected["points_sha256"], name
        assert ours["npoints"] == expected["npoints"], name
        assert ours["igral"] == pytest.approx(expected["igral"], rel=1e-14, abs=0), name
        # The error estimates are differences of coefficients computed with
        # differently rounded matrices: equal up to rounding at |igral| * eps.
        assert abs(ours["err"] - expected["err"]) <= 1e-7 * expected["err"] + 1e-13 * abs(expected["igral"]), name
    sqrt = recorded["cases"]["sqrt"]
    assert sqrt["npoints"] == 633


def test_matches_python_adaptive_when_installed() -> None:
    pytest.importorskip("adaptive")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [PYTHON, str(HELPERS / "integ_adaptive_reference.py")], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    for name, expected in theirs["cases"].items():
        ours = reference.run(IntegratorLearner, name)
        assert ours["points_sha256"] == expected["points_sha256"], name
        assert ours["npoints"] == expected["npoints"], name
        assert ours["igral"] == pytest.approx(expected["igral"], rel=1e-14, abs=0), name


def test_loads_a_file_python_adaptive_saved(tmp_path: Path) -> None:
    pytest.importorskip("adaptive")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    fname = tmp_path / "adaptive.pickle"
    command = [PYTHON, str(HELPERS / "integ_adaptive_reference.py"), "--save", str(fname), "250"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    loaded = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    loaded.load(str(fname))  # python-adaptive's layout: its data is replayed
    expected = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(expected, math.sqrt, 250)
    assert loaded.data == expected.data
    assert asks_after(loaded, math.sqrt, 50) == asks_after(expected, math.sqrt, 50)


# --- python-adaptive's interface ------------------------------------------------


def test_members() -> None:
    learner = IntegratorLearner(math.sqrt, bounds=(0, 1), tol=1e-6)
    for name in [
        "ask", "tell", "tell_many", "tell_pending", "remove_unfinished", "loss", "done", "new",
        "copy_from", "save", "load", "to_numpy", "to_dataframe", "load_dataframe", "plot",
        "igral", "err", "npoints", "data", "pending_points", "approximating_intervals", "ivals",
        "max_ivals", "bounds", "tol", "function",
    ]:
        assert hasattr(learner, name), name
    assert learner.bounds == (0, 1)
    assert learner.tol == 1e-6
    assert learner.max_ivals == 1000
    assert learner.npoints == 0 and learner.data == {}
    assert learner.err == math.inf
    assert not learner.done()
    assert issubclass(DivergentIntegralError, ValueError)


def test_integrates_sqrt_with_adaptive_figures() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    run_to_done(learner, math.sqrt)
    assert learner.npoints == 633 == len(learner.data)
    assert learner.igral == pytest.approx(2 / 3, rel=1e-9)
    assert learner.err < 1e-8 * abs(learner.igral)
    assert learner.loss() == pytest.approx(abs(abs(learner.igral) * 1e-8 - learner.err))
    assert learner.loss(real=False) == learner.loss()
    intervals = learner.approximating_intervals
    assert intervals and all(isinstance(i, Interval) for i in intervals)
    assert sum(i.igral for i in intervals) == pytest.approx(learner.igral, rel=1e-14)
    assert sum(i.err for i in intervals) == pytest.approx(learner.err, rel=1e-12)
    assert min(i.a for i in intervals) == 0 and max(i.b for i in intervals) == 1
    assert all(0 <= i.depth <= 3 and i.rdepth >= 1 for i in learner.ivals)


def test_ask_returns_lists_with_loss_improvements() -> None:
    learner = IntegratorLearner(math.exp, (0, 1), 1e-10)
    points, improvements = learner.ask(5)
    assert isinstance(points, list) and isinstance(improvements, list)
    assert len(points) == len(improvements) == 5
    assert all(isinstance(x, float) for x in points)
    assert points == sorted(points) and points[0] == 0.0
    assert learner.ask(0) == ([], [])


def test_pending_points_are_the_nodes_without_a_value() -> None:
    learner = IntegratorLearner(math.exp, (0, 1), 1e-10)
    assert len(learner.pending_points) == 17  # python-adaptive: the first rule's nodes, asked or not
    xs, _ = learner.ask(5)
    assert len(learner.pending_points) == 17
    learner.tell_many(xs, [math.exp(x) for x in xs])
    assert learner.pending_points.isdisjoint(xs) and len(learner.pending_points) == 12
    learner.tell_pending(0.3)  # accepted and ignored: asked points are pending already
    assert len(learner.pending_points) == 12


def test_tell_pending_takes_the_point_peeked_at() -> None:
    """What BalancingLearner does: peek with tell_pending=False, then tell_pending."""
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    reference = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    for _ in range(200):
        (x,), _ = learner.ask(1, tell_pending=False)
        learner.tell_pending(x)
        assert reference.ask(1)[0] == [x]
        assert learner.ask(1, tell_pending=False)[0] != [x]
        learner.tell(x, math.sqrt(x))
        reference.tell(x, math.sqrt(x))
    assert learner.data == reference.data


def test_python_adaptive_runners_drive_it() -> None:
    adaptive = pytest.importorskip("adaptive")
    # (Not a function integrated exactly at once: python-adaptive's BalancingLearner
    # does not expect the RuntimeError of a child that cannot be refined.)
    learners = [IntegratorLearner(lambda x: x**0.3, (0, 1), 1e-8), IntegratorLearner(math.sqrt, (0, 1), 1e-6)]
    balancing = adaptive.BalancingLearner(learners)
    adaptive.runner.simple(balancing, goal=lambda b: all(child.done() for child in b.learners))
    assert learners[0].igral == pytest.approx(1 / 1.3, rel=1e-8)
    assert learners[1].igral == pytest.approx(2 / 3, rel=1e-6)
    from concurrent.futures import ThreadPoolExecutor

    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    with ThreadPoolExecutor(4) as executor:
        adaptive.BlockingRunner(learner, goal=lambda lr: lr.done(), executor=executor, ntasks=4)
    assert learner.igral == pytest.approx(2 / 3, rel=1e-8)


def test_ask_without_tell_pending_changes_nothing() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 40)
    peek, _ = learner.ask(7, tell_pending=False)
    assert learner.ask(7, tell_pending=False)[0] == peek
    assert learner.ask(7)[0] == peek


def test_remove_unfinished_asks_the_unfinished_points_again() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 20)
    lost, _ = learner.ask(3)
    learner.remove_unfinished()
    again, _ = learner.ask(3)
    assert again == lost


def test_exhausted_learner_raises_runtime_error() -> None:
    learner = IntegratorLearner(lambda x: 1.0, (0, 1), 1e-8)
    run_to_done(learner, lambda x: 1.0)
    assert learner.npoints == 33 and learner.ivals == set()
    assert learner.igral == pytest.approx(1.0, rel=1e-14)
    with pytest.raises(RuntimeError, match="No way to improve"):
        learner.ask(1)


def test_function_is_settable_and_new_is_empty() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 50)
    learner.function = math.exp
    assert learner.function is math.exp
    fresh = learner.new()
    assert type(fresh) is IntegratorLearner
    assert (fresh.bounds, fresh.tol, fresh.npoints, fresh.function) == ((0, 1), 1e-8, 0, math.exp)


def test_max_ivals_is_settable() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-12)
    learner.max_ivals = 3
    assert learner.max_ivals == 3
    for _ in range(300):
        if learner.done():
            break
        asks_after(learner, math.sqrt, 1)
        assert len(learner.ivals) <= 3
    with pytest.raises(ValueError, match="max_ivals"):
        learner.max_ivals = 0
    assert learner.max_ivals == 3


def test_to_numpy_and_dataframe() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    assert learner.to_numpy().shape == (0, 2)
    asks_after(learner, math.sqrt, 60)
    table = learner.to_numpy()
    assert table.shape == (60, 2) and table.dtype == np.float64
    assert np.all(np.diff(table[:, 0]) > 0)
    assert np.array_equal(table[:, 1], np.sqrt(table[:, 0]))
    pandas = pytest.importorskip("pandas")
    df = learner.to_dataframe(x_name="t", y_name="f")
    assert isinstance(df, pandas.DataFrame) and list(df.columns) == ["t", "f"]
    assert df.attrs == {"inputs": ["t"], "output": "f"}
    assert np.array_equal(df.to_numpy(), table)


def test_load_dataframe_replays_a_sequential_run() -> None:
    pytest.importorskip("pandas")
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 300)
    loaded = learner.new()
    loaded.load_dataframe(learner.to_dataframe())
    assert loaded.data == learner.data
    assert (loaded.igral, loaded.err) == (learner.igral, learner.err)
    assert asks_after(loaded, math.sqrt, 50) == asks_after(learner, math.sqrt, 50)
    with pytest.raises(ValueError, match="already holds data"):
        loaded.load_dataframe(learner.to_dataframe())


def test_pickle_keeps_the_whole_state() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 200)
    in_flight, _ = learner.ask(4)  # pending: asked, not told
    for copied in (pickle.loads(pickle.dumps(learner)), copy.deepcopy(learner), copy.copy(learner)):
        assert type(copied) is IntegratorLearner
        assert copied.data == learner.data and copied.data is not learner.data
        assert (copied.igral, copied.err, copied.npoints) == (learner.igral, learner.err, learner.npoints)
        assert copied.pending_points == learner.pending_points
        assert copied.function(4.0) == 2.0
        assert copied.ask(5, tell_pending=False) == learner.ask(5, tell_pending=False)
    copied = pickle.loads(pickle.dumps(learner))
    for learner_ in (learner, copied):
        learner_.tell_many(in_flight, [math.sqrt(x) for x in in_flight])
    assert asks_after(copied, math.sqrt, 100) == asks_after(learner, math.sqrt, 100)
    assert (copied.igral, copied.err) == (learner.igral, learner.err)


def test_save_and_load(tmp_path: Path) -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 150)
    fname = tmp_path / "sub" / "integrator.pickle"
    learner.save(str(fname))
    loaded = learner.new()
    loaded.load(str(fname))
    assert loaded.data == learner.data
    assert asks_after(loaded, math.sqrt, 100) == asks_after(learner, math.sqrt, 100)
    other = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    other.copy_from(learner)
    assert other.data == learner.data
    missing = learner.new()
    missing.load(str(tmp_path / "nothing.pickle"))  # a missing file is ignored, as in python-adaptive
    assert missing.npoints == 0
    wrong = IntegratorLearner(math.sqrt, (0, 2), 1e-8)
    with pytest.raises(ValueError, match="saved for"):
        wrong.load(str(fname))
    assert asks_after(wrong, math.sqrt, 3)


def test_loads_python_adaptive_layout_by_replaying_its_data() -> None:
    """python-adaptive's _get_data is a 7-tuple of its interval objects; its
    data dict (the second entry) is what can be carried over."""
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    asks_after(learner, math.sqrt, 120)
    loaded = learner.new()
    loaded._set_data((None, dict(learner.data), None, None, None, None, None))
    assert loaded.data == learner.data
    assert asks_after(loaded, math.sqrt, 30) == asks_after(learner, math.sqrt, 30)
    with pytest.warns(UserWarning, match="belong to no interval"):
        learner.new()._set_data((None, {0.0: 0.0, 0.123456: 1.0}, None, None, None, None, None))


def test_plot() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    assert learner.plot() is not None
    asks_after(learner, math.sqrt, 40)
    ax = learner.plot()
    assert len(ax.lines[0].get_xdata()) == 40


# --- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds, tol, error, message",
    [
        ((0, 1), 0, ValueError, "tolerance must be positive"),
        ((0, 1), -1e-3, ValueError, "tolerance must be positive"),
        ((0, 1), math.nan, ValueError, "tolerance must be positive"),
        ((1, 0), 1e-3, ValueError, "a < b"),
        ((0, 0), 1e-3, ValueError, "a < b"),
        ((0, math.inf), 1e-3, ValueError, "finite"),
        ((math.nan, 1), 1e-3, ValueError, "finite"),
        ((0, 1, 2), 1e-3, ValueError, "two numbers"),
        (("a", 1), 1e-3, TypeError, "bounds"),
        ((0, 1), "x", TypeError, "tol"),
    ],
)
def test_bad_construction(bounds: Any, tol: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        IntegratorLearner(math.sqrt, bounds, tol)


def test_bad_tells_raise_and_leave_the_learner_usable() -> None:
    learner = IntegratorLearner(math.sqrt, (0, 1), 1e-8)
    xs, _ = learner.ask(3)
    with pytest.raises(ValueError, match="not a node"):
        learner.tell(0.123, 1.0)
    with pytest.raises(ValueError, match="not a node"):
        learner.tell(math.nan, 1.0)
    with pytest.raises(TypeError, match="may not be None"):
        learner.tell(xs[0], None)
    with pytest.raises(TypeError, match="real number"):
        learner.tell(xs[0], [1.0, 2.0])
    with pytest.raises(TypeError, match="real number"):
        learner.tell(xs[0], "1.0")
    with pytest.raises(TypeError, match="x must be a real number"):
        learner.tell("0", 1.0)
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many(xs[:2], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        learner.ask(-1)
    assert learner.npoints == 0 and learner.data == {}
    learner.tell_many(xs, [math.sqrt(x) for x in xs])
    learner.tell(np.float64(xs[0]), 5.0)  # told twice: keeps the first value
    assert learner.data[xs[0]] == math.sqrt(xs[0])
    run_to_done(learner, math.sqrt)
    assert learner.igral == pytest.approx(2 / 3, rel=1e-8)


def test_nan_values_are_left_out_of_the_fit() -> None:
    def f(x: float) -> float:
        return math.nan if x == 0.5 else math.exp(x)

    learner = IntegratorLearner(f, (0, 1), 1e-10)
    run_to_done(learner, f)
    assert math.isnan(learner.data[0.5])
    assert learner.igral == pytest.approx(math.e - 1, rel=1e-9)
    assert math.isfinite(learner.err)


def test_divergent_integral_raises_divergent_integral_error() -> None:
    def f(x: float) -> float:  # not integrable at c (python-adaptive's own test)
        return abs(x - 0.987654321) ** -1.1

    learner = IntegratorLearner(f, (0, 1), 1e-6)
    with pytest.raises(DivergentIntegralError) as raised:
        run_to_done(learner, f)
    assert isinstance(raised.value, ValueError)
    assert "diverges" in str(raised.value)
    assert raised.type.__module__ == "taskmaster.learner.integrator_learner"
    # The value that revealed the divergence was taken, as in python-adaptive.
    assert learner.npoints == len(learner.data) > 0


def test_ask_and_tell_are_compiled_methods() -> None:
    """The hot path is not wrapped in Python."""
    for name in ("ask", "tell", "tell_many"):
        assert type(getattr(IntegratorLearner, name)).__name__ == "instancemethod", name
