"""Learner1D through the Python package: agreement with the C++ learner and
with python-adaptive, adaptive's interface, pickling, files, bad input."""

from __future__ import annotations

import functools
import json
import math
import pickle
import sys

import numpy as np
import pytest

import taskmaster
from taskmaster.learner import learner1D as losses
from taskmaster.learner.learner1D import Learner1D

from conftest import HELPERS, REPO, replay_asks, run_cli

sys.path.insert(0, str(HELPERS))
from peak1d import f as peak  # noqa: E402


def run_sequentially(learner, n: int, function=None) -> None:
    function = function or learner.function
    for _ in range(n):
        xs, _ = learner.ask(1)
        learner.tell(xs[0], function(xs[0]))


def asks(learner, n: int) -> list:
    """The next n points learner asks one at a time, telling each result."""
    out = []
    for _ in range(n):
        xs, _ = learner.ask(1)
        out.append(xs[0])
        learner.tell(xs[0], learner.function(xs[0]))
    return out


# --- agreement ---------------------------------------------------------------


def test_reproduces_python_adaptives_recorded_trace() -> None:
    trace = json.loads((REPO / "tests/data/adaptive-trace-learner1d-peak-N200.json").read_text())
    learner = Learner1D(peak, bounds=tuple(trace["bounds"]))
    for step, (x, y, improvement) in enumerate(trace["points"]):
        points, improvements = learner.ask(1)
        assert points == [x], f"step {step}"
        assert improvements == [float(improvement)], f"step {step}"
        learner.tell(points[0], peak(points[0]))
        assert learner.data[x] == y
    assert learner.npoints == 200


@pytest.mark.parametrize(
    "loss, workers", [("distance", 1), ("distance", 3), ("curvature", 3), ("triangle", 1), ("uniform", 2)]
)
def test_asks_what_the_cpp_learner_asked(cli, history, workers: int, loss: str) -> None:
    events = run_cli(
        cli,
        ["--learner", "1d", "--bounds", "-1,1", "--loss", loss, "--goal", "npoints=80",
         "-j", str(workers), "--", sys.executable, str(HELPERS / "peak1d.py"), "{x}"],
        history,
    )
    python_loss = {
        "distance": None,
        "curvature": losses.curvature_loss_function(),
        "triangle": losses.triangle_loss,
        "uniform": losses.uniform_loss,
    }[loss]
    learner = Learner1D(peak, (-1, 1), loss_per_interval=python_loss)
    assert replay_asks(learner, events) >= 80


@pytest.mark.parametrize(
    "name",
    ["default_loss", "uniform_loss", "abs_min_log_loss", "triangle_loss", "curvature", "resolution"],
)
def test_adaptives_own_losses_run_natively_and_agree(name: str) -> None:
    adaptive = pytest.importorskip("adaptive")
    module = adaptive.learner.learner1D
    loss = {
        "curvature": lambda: module.curvature_loss_function(0.5, 0.1, 0.05),
        "resolution": lambda: module.resolution_loss_function(min_length=0.01, max_length=0.2),
    }.get(name, lambda: getattr(module, name))()
    assert losses.native_spec(loss) is not None
    ours = Learner1D(peak, (-1, 1), loss_per_interval=loss)
    theirs = adaptive.Learner1D(peak, (-1, 1), loss_per_interval=loss)
    for _ in range(60):
        # batches too: the greedy distribution of several points must agree
        p_ours, i_ours = ours.ask(3)
        p_theirs, i_theirs = theirs.ask(3)
        assert p_ours == pytest.approx(p_theirs, rel=0, abs=0)
        assert i_ours == pytest.approx(i_theirs, rel=1e-12)
        for x in p_ours:
            ours.tell(x, peak(x))
            theirs.tell(x, peak(x))
    assert ours.loss() == pytest.approx(theirs.loss(), rel=1e-12)


def test_native_losses_are_callable_like_adaptives() -> None:
    xs, ys = (0.0, 0.5), (0.0, 0.5)
    assert losses.default_loss(xs, ys) == pytest.approx(math.hypot(0.5, 0.5))
    assert losses.uniform_loss(xs, ys) == 0.5
    assert losses.triangle_loss((None, 0.0, 0.5, None), (None, 0.0, 0.5, None)) == 0.5
    assert losses.resolution_loss_function(0.6, 1)(xs, ys) == 0
    adaptive = pytest.importorskip("adaptive")
    module = adaptive.learner.learner1D
    xs4, ys4 = (-0.2, 0.0, 0.3, 0.45), (0.1, 0.5, 0.2, 0.9)
    assert losses.triangle_loss(xs4, ys4) == pytest.approx(module.triangle_loss(xs4, ys4))
    ours = losses.curvature_loss_function()(xs4, ys4)
    assert ours == pytest.approx(module.curvature_loss_function()(xs4, ys4))


def test_python_loss_is_called_back_and_matches_the_native_one() -> None:
    calls = []

    def distance(xs, ys):
        calls.append(len(xs))
        return math.hypot(xs[1] - xs[0], ys[1] - ys[0])

    native = Learner1D(peak, (-1, 1))
    python = Learner1D(peak, (-1, 1), loss_per_interval=distance)
    assert asks(native, 120) == asks(python, 120)
    assert calls and set(calls) == {2}


def test_python_loss_with_neighbours_matches_the_native_triangle_loss() -> None:
    seen_none = []

    @taskmaster.uses_nth_neighbors(1)
    def triangle(xs, ys):
        seen_none.append(xs[0] is None or xs[3] is None)
        return losses.triangle_loss(xs, ys)

    native = Learner1D(peak, (-1, 1), loss_per_interval=losses.triangle_loss)
    python = Learner1D(peak, (-1, 1), loss_per_interval=triangle)
    assert python.nth_neighbors == 1
    assert asks(native, 120) == asks(python, 120)
    assert any(seen_none) and not all(seen_none)


def test_a_failing_python_loss_raises_its_exception() -> None:
    def broken(xs, ys):
        raise RuntimeError("loss exploded")

    learner = Learner1D(peak, (-1, 1), loss_per_interval=broken)
    learner.tell(-1.0, peak(-1.0))
    with pytest.raises(RuntimeError, match="loss exploded"):
        learner.tell(1.0, peak(1.0))


# --- the interface ---------------------------------------------------------------


def test_ask_shapes_and_pending_points() -> None:
    learner = Learner1D(peak, (-1, 1))
    points, improvements = learner.ask(5)
    assert isinstance(points, list) and isinstance(improvements, list)
    assert len(points) == 5 and all(isinstance(x, float) for x in points)
    assert points[0] == -1.0 and points[-1] == 1.0
    assert learner.pending_points == set(points)
    assert learner.npoints == 0 and learner.data == {}
    assert learner.loss() == math.inf
    learner.remove_unfinished()
    assert learner.pending_points == set()
    again, _ = learner.ask(5, tell_pending=False)
    assert again == points and learner.pending_points == set()


def test_tell_pending_and_loss_with_pending_points() -> None:
    learner = Learner1D(peak, (-1, 1))
    run_sequentially(learner, 20)
    real = learner.loss()
    learner.tell_pending(0.123)
    assert 0.123 in learner.pending_points
    assert learner.loss() == real
    assert learner.loss(real=False) <= real
    learner.tell(0.123, peak(0.123))
    assert 0.123 not in learner.pending_points


def test_members_mirror_adaptive() -> None:
    learner = Learner1D(peak, bounds=[-2, 3])
    assert learner.bounds == (-2.0, 3.0)
    assert learner.function is peak
    assert learner.loss_per_interval is losses.default_loss
    assert learner.nth_neighbors == 0 and learner.vdim == 1
    learner.function = abs
    assert learner.function is abs
    run_sequentially(learner, 10, peak)
    table = learner.to_numpy()
    assert table.shape == (10, 2)
    assert list(table[:, 0]) == sorted(learner.data)
    fresh = learner.new()
    assert fresh.npoints == 0 and fresh.bounds == learner.bounds and fresh.function is abs
    fresh.copy_from(learner)
    assert fresh.data == learner.data
    assert fresh.ask(3) == learner.ask(3)


def test_vector_outputs() -> None:
    learner = Learner1D(lambda x: [x, np.sin(5 * x), x**2], (-1, 1))
    learner.tell_pending(0.5)
    run_sequentially(learner, 50)
    assert learner.vdim == 3
    value = learner.data[1.0]
    assert isinstance(value, np.ndarray) and value.shape == (3,)
    assert learner.to_numpy().shape == (50, 4)
    with pytest.raises(ValueError):
        learner.tell(0.77, [1.0, 2.0])
    with pytest.raises(ValueError):
        learner.tell(0.77, 1.0)
    assert 0.77 not in learner.data
    learner.tell_many([0.2, 0.3], np.array([[1, 2, 3], [4, 5, 6]]))
    assert list(learner.data[0.3]) == [4.0, 5.0, 6.0]


def test_tell_many_computes_every_loss_at_the_final_scale() -> None:
    xs = np.linspace(-1, 1, 301)
    ys = [peak(x) for x in xs]
    learner = Learner1D(peak, (-1, 1))
    learner.tell_many(xs[::-1], ys[::-1], force=True)
    assert learner.npoints == 301
    y_scale = max(ys) - min(ys)
    expected = max(
        math.hypot((b - a) / 2, (fb - fa) / y_scale) for a, b, fa, fb in zip(xs, xs[1:], ys, ys[1:])
    )
    assert learner.loss() == pytest.approx(expected, rel=1e-12)
    points, _ = learner.ask(1)
    widest = max(zip(xs, xs[1:], ys, ys[1:]),
                 key=lambda q: math.hypot((q[1] - q[0]) / 2, (q[3] - q[2]) / y_scale))
    assert points[0] == pytest.approx((widest[0] + widest[1]) / 2)


def test_tell_many_agrees_with_adaptives() -> None:
    adaptive = pytest.importorskip("adaptive")
    rng = np.random.default_rng(7)
    xs = np.concatenate([[-1.0, 1.0], rng.uniform(-1, 1, 500)])
    ys = [peak(x) for x in xs]
    ours, theirs = Learner1D(peak, (-1, 1)), adaptive.Learner1D(peak, (-1, 1))
    ours.tell_many(xs, ys)
    theirs.tell_many(xs, ys)
    assert ours.loss() == pytest.approx(theirs.loss(), rel=1e-12)
    assert ours.ask(7) == theirs.ask(7)


def test_tell_many_of_a_million_points() -> None:
    xs = np.random.default_rng(3).uniform(-1, 1, 10**6)
    xs[:2] = (-1, 1)
    learner = Learner1D(peak, (-1, 1))
    learner.tell_many(xs, xs**2)
    assert learner.npoints == 10**6 == len(learner.data)
    assert math.isfinite(learner.loss())
    assert learner.data[xs[10]] == xs[10] ** 2


def test_nan_values_do_not_stop_learning() -> None:
    def holey(x):
        return math.nan if 0.2 < x < 0.3 else math.sin(3 * x)

    learner = Learner1D(holey, (-1, 1))
    run_sequentially(learner, 200)
    assert learner.npoints == 200
    assert math.isfinite(learner.loss())
    assert any(math.isnan(y) for y in learner.data.values())


# --- state ------------------------------------------------------------------------


def test_pickle_round_trip_asks_the_same_points() -> None:
    learner = Learner1D(peak, (-1, 1), loss_per_interval=losses.curvature_loss_function())
    run_sequentially(learner, 77)
    learner.tell_pending(0.4242)
    copy = pickle.loads(pickle.dumps(learner))
    assert type(copy) is type(learner)
    assert copy.data == learner.data and copy.bounds == learner.bounds
    assert copy.loss() == learner.loss()
    assert copy.loss_per_interval == learner.loss_per_interval
    assert copy.pending_points == {0.4242}
    assert asks(copy, 50) == asks(learner, 50)


def test_a_state_that_cannot_be_loaded_raises_state_error() -> None:
    learner = Learner1D(peak, (-1, 1))
    run_sequentially(learner, 20)
    text, kind, vdim = learner._state()
    newer = json.loads(text)
    newer["version"] += 1
    with pytest.raises(taskmaster.StateError, match="newer") as raised:
        Learner1D(peak, (-1, 1))._load_state(json.dumps(newer), kind, vdim, {})
    assert isinstance(raised.value, ValueError)  # as python-adaptive raises
    with pytest.raises(taskmaster.StateError, match="already holds data"):
        learner._load_state(text, kind, vdim, {})
    with pytest.raises(taskmaster.StateError, match="bounds"):
        Learner1D(peak, (0, 1))._load_state(text, kind, vdim, {})


def test_pickle_keeps_a_lambda_function() -> None:
    scale = 3.0
    learner = Learner1D(lambda x: scale * x, (0, 1))
    run_sequentially(learner, 5)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.function(2.0) == 6.0


def test_save_and_load(tmp_path) -> None:
    learner = Learner1D(peak, (-1, 1))
    run_sequentially(learner, 40)
    fname = tmp_path / "sub" / "learner.p"
    learner.save(str(fname))
    other = Learner1D(peak, (-1, 1))
    other.load(str(fname))
    assert other.data == learner.data
    assert other.ask(5) == learner.ask(5)
    missing = Learner1D(peak, (-1, 1))
    missing.load(str(tmp_path / "nothing.p"))
    assert missing.npoints == 0


def test_files_interoperate_with_python_adaptive(tmp_path) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs = adaptive.Learner1D(peak, (-1, 1))
    adaptive.runner.simple(theirs, npoints_goal=50)
    theirs.save(str(tmp_path / "theirs.p"))
    ours = Learner1D(peak, (-1, 1))
    ours.load(str(tmp_path / "theirs.p"))
    assert ours.data == theirs.data
    assert ours.ask(4, tell_pending=False)[0] == theirs.ask(4, tell_pending=False)[0]
    ours.save(str(tmp_path / "ours.p"))
    back = adaptive.Learner1D(peak, (-1, 1))
    back.load(str(tmp_path / "ours.p"))
    assert back.data == theirs.data


def test_dataframe_round_trip() -> None:
    pytest.importorskip("pandas")

    def shifted(x, offset=0.5):
        return x + offset

    learner = Learner1D(shifted, (-1, 1))
    run_sequentially(learner, 30)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "function.offset"]
    assert len(df) == 30 and list(df["x"]) == sorted(df["x"])
    other = Learner1D(shifted, (-1, 1))
    other.load_dataframe(df)
    assert other.data == learner.data
    assert isinstance(other.function, functools.partial)
    assert other.function.keywords == {"offset": 0.5}
    renamed = learner.to_dataframe(with_default_function_args=False, x_name="t", y_name="v")
    assert list(renamed.columns) == ["t", "v"]


def test_plot_draws_with_matplotlib() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    learner = Learner1D(lambda x: [x, x**2], (-1, 1))
    run_sequentially(learner, 20)
    ax = learner.plot(scatter_or_line="line")
    assert len(ax.lines) == 2
    with pytest.raises(ValueError):
        learner.plot(scatter_or_line="bars")


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds, error",
    [((1, 0), ValueError), ((0, 0), ValueError), ((0,), ValueError), ((0, math.inf), ValueError),
     (("a", 1), TypeError)],
)
def test_bad_bounds(bounds, error) -> None:
    with pytest.raises(error):
        Learner1D(peak, bounds)


def test_bad_values_raise_and_lose_nothing() -> None:
    learner = Learner1D(peak, (-1, 1))
    run_sequentially(learner, 10)
    before = dict(learner.data)
    with pytest.raises(TypeError, match="None"):
        learner.tell(0.123, None)
    with pytest.raises(ValueError, match="NaN"):
        learner.tell(math.nan, 1.0)
    with pytest.raises(ValueError):
        learner.tell(0.123, [1.0, 2.0])
    with pytest.raises(TypeError):
        learner.tell(0.123, "high")
    with pytest.raises(ValueError):
        learner.tell_many([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        learner.tell_many([0.1, math.nan, 0.3], [1.0, 2.0, 3.0], force=True)
    assert learner.data == before
    run_sequentially(learner, 5)
    assert learner.npoints == 15


def test_a_point_never_asked_is_learned_as_adaptive_does() -> None:
    learner = Learner1D(peak, (-1, 1))
    learner.tell(0.3, peak(0.3))
    learner.tell(5.0, 1.0)  # outside the bounds: kept in data, not used
    assert learner.npoints == 2 and 5.0 in learner.data
    points, _ = learner.ask(2)
    assert points == [-1.0, 1.0]


def test_bad_loss_argument() -> None:
    with pytest.raises(TypeError):
        Learner1D(peak, (-1, 1), loss_per_interval=42)
