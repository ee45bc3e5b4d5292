"""AverageLearner and AverageLearner1D: agreement with the taskmaster tool's C++
learners and with python-adaptive, python-adaptive's interface, state round
trips and bad input."""

from __future__ import annotations

import copy
import math
import pickle
import random
import statistics
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from conftest import HELPERS, replay_asks, run_cli
from taskmaster.learner.average_learner import AverageLearner
from taskmaster.learner.average_learner1D import AverageLearner1D
from taskmaster.learner.learner1D import uniform_loss

PYTHON = sys.executable


class ScalarTells:
    """The tool records every output as a vector; these learners' values are numbers."""

    def __init__(self, learner: Any) -> None:
        self.learner = learner

    def ask(self, n: int) -> Any:
        return self.learner.ask(n)

    def tell(self, x: Any, y: Any) -> None:
        self.learner.tell(x, y[0] if isinstance(y, list) else y)


def noise(seed: int) -> float:
    return random.Random(seed).gauss(1.0, 0.5)


def noisy_tanh(seed_x: tuple[int, float]) -> float:
    seed, x = seed_x
    return math.tanh(5 * x) + random.Random(f"{seed}:{x!r}").gauss(0.0, 0.1)


def step(learner: Any, f: Callable[[Any], float], n: int) -> list[Any]:
    """n times: ask(1) and tell at once; the points asked."""
    points = []
    for _ in range(n):
        xs, _ = learner.ask(1)
        points.append(xs[0])
        learner.tell(xs[0], f(xs[0]))
    return points


# === AverageLearner ===============================================================

# --- agreement with the C++ learner (the taskmaster tool) ---------------------


@pytest.mark.parametrize("workers, mode", [(3, "program"), (1, "worker"), (3, "worker")])
def test_average_asks_what_the_tool_asked(cli: Path, history: Path, workers: int, mode: str) -> None:
    helper = str(HELPERS / "avg_noise.py")
    command = ["--worker", f"{PYTHON} -S {helper}"] if mode == "worker" else ["--", PYTHON, "-S", helper, "{x}"]
    # One program per point is slow to start: few points that way, many through a worker.
    atol, min_npoints = (0.1, 20) if mode == "program" else (0.01, 2)
    events = run_cli(
        cli,
        ["--learner", "average", "--learner-param", f"atol={atol}", "--learner-param", f"min_npoints={min_npoints}",
         "--seed", "7", "-j", str(workers), *command],
        history,
    )
    learner = AverageLearner(noise, atol=atol, min_npoints=min_npoints)
    asked = replay_asks(ScalarTells(learner), events)
    assert asked == sum(1 for e in events if e["e"] == "ask") >= 20
    assert learner.loss() <= 1
    told = [e for e in events if e["e"] == "tell"]
    assert learner.npoints == len(told)
    assert learner.mean == pytest.approx(statistics.fmean(e["y"][0] for e in told), rel=1e-12)


# --- agreement with python-adaptive --------------------------------------------


def gap_scenario(learner: Any) -> list[Any]:
    """Asks after results came back out of order and remove_unfinished: the
    seeds python-adaptive asks (a recorded run of 1.5.2 below)."""
    asked = [learner.ask(6)[0]]
    for seed in (0, 1, 2, 5):
        learner.tell(seed, float(seed))
    learner.remove_unfinished()
    asked += [learner.ask(1)[0], learner.ask(1)[0], learner.ask(2)[0], sorted(learner.pending_points)]
    learner.tell(10, 1.0)
    asked.append(learner.ask(3)[0])
    return asked


def test_average_asks_seeds_as_python_adaptive() -> None:
    learner = AverageLearner(noise, atol=0.1)
    assert gap_scenario(learner) == [[0, 1, 2, 3, 4, 5], [4], [3], [6, 7], [3, 4, 6, 7], [8, 9, 11]]
    assert learner.n_requested == 12


def test_average_matches_python_adaptive_when_installed() -> None:
    adaptive = pytest.importorskip("adaptive")
    assert gap_scenario(AverageLearner(noise, atol=0.1)) == gap_scenario(adaptive.AverageLearner(noise, atol=0.1))
    ours = AverageLearner(noise, atol=0.02, rtol=0.05, min_npoints=5)
    theirs = adaptive.AverageLearner(noise, atol=0.02, rtol=0.05, min_npoints=5)
    for n in [1, 3, 1, 7, 2] * 40:
        (p, li), (q, lj) = ours.ask(n), theirs.ask(n)
        assert p == q
        assert li == pytest.approx(lj, rel=1e-9)
        for seed in p:
            ours.tell(seed, noise(seed))
            theirs.tell(seed, noise(seed))
        assert ours.loss() == pytest.approx(theirs.loss(), rel=1e-9)
        assert ours.loss(real=False) == pytest.approx(theirs.loss(real=False), rel=1e-9)
        assert ours.loss(n=1000) == pytest.approx(theirs.loss(n=1000), rel=1e-9)
    assert ours.mean == pytest.approx(theirs.mean, rel=1e-12)
    assert ours.std == pytest.approx(theirs.std, rel=1e-9)
    assert ours.npoints == theirs.npoints and ours.data == theirs.data


def test_average_save_files_interoperate_with_python_adaptive(tmp_path: Path) -> None:
    adaptive = pytest.importorskip("adaptive")
    ours = AverageLearner(noise, atol=0.01)
    step(ours, noise, 30)
    ours.save(str(tmp_path / "ours.pickle"))
    theirs = adaptive.AverageLearner(noise, atol=0.01)
    theirs.load(str(tmp_path / "ours.pickle"))
    assert theirs.data == ours.data and theirs.npoints == 30
    assert theirs.mean == pytest.approx(ours.mean, rel=1e-12)
    step(theirs, noise, 10)
    theirs.save(str(tmp_path / "theirs.pickle"))
    back = AverageLearner(noise, atol=0.01)
    back.load(str(tmp_path / "theirs.pickle"))
    assert back.data == theirs.data and back.npoints == 40
    assert back.ask(2)[0] == theirs.ask(2)[0] == [40, 41]


# --- python-adaptive's interface ------------------------------------------------


def test_average_takes_seeds_through_the_learners_counter() -> None:
    """Seeds asked in order advance the C++ learner's counter rather than being
    marked one by one ahead of it (which made each ask scan all of them)."""
    import json

    learner = AverageLearner(noise, atol=1e-9)
    step(learner, noise, 500)
    learner.ask(3)
    state = json.loads(learner._state()[0])["payload"]
    assert state["next"] == 503 and state["pending"] == [500, 501, 502]


def test_average_members() -> None:
    learner = AverageLearner(noise, atol=0.1)
    for name in [
        "ask", "tell", "tell_many", "tell_pending", "remove_unfinished", "loss", "new", "copy_from",
        "save", "load", "to_numpy", "to_dataframe", "load_dataframe", "plot", "data", "npoints",
        "n_requested", "pending_points", "mean", "std", "atol", "rtol", "min_npoints", "function",
    ]:
        assert hasattr(learner, name), name
    assert (learner.atol, learner.rtol, learner.min_npoints) == (0.1, math.inf, 2)
    assert AverageLearner(noise, rtol=0.5, min_npoints=0).min_npoints == 2
    assert AverageLearner(noise, rtol=0.5, min_npoints=7).atol == math.inf
    assert learner.data == {} and learner.npoints == 0 and learner.pending_points == set()
    assert learner.loss() == math.inf
    assert math.isnan(learner.mean) and learner.std == math.inf
    assert learner.ask(0) == ([], [])


def test_average_statistics_and_loss() -> None:
    learner = AverageLearner(noise, atol=0.01, rtol=0.02, min_npoints=3)
    seeds, improvements = learner.ask(2)
    assert seeds == [0, 1] and improvements == [math.inf, math.inf]
    assert learner.pending_points == {0, 1} and learner.n_requested == 2
    for seed in seeds:
        learner.tell(seed, noise(seed))
    assert learner.loss() == math.inf  # fewer than min_npoints
    step(learner, noise, 98)
    values = [noise(s) for s in range(100)]
    assert learner.mean == pytest.approx(statistics.fmean(values), rel=1e-13)
    assert learner.std == pytest.approx(statistics.stdev(values), rel=1e-12)
    stderr = statistics.stdev(values) / 10
    expected = max(stderr / 0.01, stderr / (0.02 * abs(statistics.fmean(values))))
    assert learner.loss() == pytest.approx(expected, rel=1e-12)
    assert learner.loss(n=400) == pytest.approx(expected / 2, rel=1e-12)
    assert learner.loss(n=2) == math.inf
    learner.ask(300)
    assert learner.loss(real=False) == pytest.approx(expected / 2, rel=1e-12)
    assert learner.n_requested == 400


def test_average_to_numpy_and_dataframe() -> None:
    learner = AverageLearner(noise, atol=0.1)
    assert learner.to_numpy().shape == (0, 2)
    learner.tell_many([3, 1, 2], [3.0, 1.0, 2.5])
    table = learner.to_numpy()
    assert table.shape == (3, 2) and table.dtype == np.float64
    assert table.tolist() == [[1, 1.0], [2, 2.5], [3, 3.0]]
    pandas = pytest.importorskip("pandas")

    def f(seed: int, scale: float = 2.0) -> float:
        return scale * noise(seed)

    learner = AverageLearner(f, atol=0.1)
    step(learner, f, 20)
    df = learner.to_dataframe()
    assert isinstance(df, pandas.DataFrame)
    assert list(df.columns) == ["seed", "y", "function.scale"]
    assert df.attrs == {"inputs": ["seed"], "output": "y"}
    other = AverageLearner(f, atol=0.1)
    other.load_dataframe(df)
    assert other.data == learner.data and other.function.keywords == {"scale": 2.0}
    renamed = AverageLearner(f, atol=0.1)
    renamed.load_dataframe(
        learner.to_dataframe(seed_name="s", y_name="v", with_default_function_args=False),
        seed_name="s",
        y_name="v",
        with_default_function_args=False,
    )
    assert renamed.data == learner.data


def test_average_pickle_keeps_pending_seeds() -> None:
    learner = AverageLearner(noise, atol=0.01)
    step(learner, noise, 20)
    in_flight, _ = learner.ask(3)
    learner.tell(in_flight[1], noise(in_flight[1]))
    for copied in (pickle.loads(pickle.dumps(learner)), copy.deepcopy(learner)):
        assert type(copied) is AverageLearner
        assert copied.data == learner.data and copied.pending_points == learner.pending_points == {20, 22}
        assert copied.mean == learner.mean and copied.loss() == learner.loss()
        assert (copied.atol, copied.rtol, copied.min_npoints) == (learner.atol, learner.rtol, learner.min_npoints)
        assert copied.function(3) == noise(3)
        copied.remove_unfinished()
        assert copied.ask(4)[0] == [20, 22, 23, 24]
    assert learner.ask(2)[0] == [23, 24]


def test_average_save_load_and_copy_from(tmp_path: Path) -> None:
    learner = AverageLearner(noise, atol=0.01)
    step(learner, noise, 25)
    learner.tell(40, 1.0)
    next_seed = learner.ask(1, tell_pending=False)[0][0]
    data = learner._get_data()
    assert isinstance(data, tuple) and len(data) == 4
    assert data[0] == learner.data and data[1] == 26
    assert data[2] == pytest.approx(sum(learner.data.values()))
    assert data[3] == pytest.approx(sum(v * v for v in learner.data.values()))
    learner.save(str(tmp_path / "avg.pickle"))
    loaded = learner.new()
    assert loaded.npoints == 0 and loaded.atol == 0.01
    loaded.load(str(tmp_path / "avg.pickle"))
    assert loaded.data == learner.data and loaded.mean == pytest.approx(learner.mean, rel=1e-14)
    # python-adaptive's rule: seeds from n_requested on while they are free.
    assert loaded.ask(1)[0] == [next_seed] == [26]
    other = AverageLearner(noise, atol=0.01)
    other.tell(0, 100.0)
    other.tell_pending(99)
    other.copy_from(learner)  # replaces the data, as python-adaptive's _set_data does
    assert other.data == learner.data and other.pending_points == {99}


def test_average_plot() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    learner = AverageLearner(noise, atol=0.1)
    assert learner.plot() is not None
    step(learner, noise, 100)
    ax = learner.plot()
    assert len(ax.patches) == 10  # max(5, sqrt(npoints)) bins


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({}, ValueError, "at least one of `atol` and `rtol`"),
        ({"atol": 0}, ValueError, "atol must be positive"),
        ({"atol": -1}, ValueError, "atol must be positive"),
        ({"rtol": math.nan}, ValueError, "rtol must be positive"),
        ({"atol": "a"}, TypeError, "atol"),
        ({"atol": 0.1, "min_npoints": 2.5}, ValueError, "min_npoints"),
    ],
)
def test_average_bad_construction(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        AverageLearner(noise, **kwargs)
    # python-adaptive raises a bare Exception without tolerances: ValueError is one.
    assert issubclass(error, Exception)


def test_average_bad_input_leaves_the_learner_usable() -> None:
    learner = AverageLearner(noise, atol=0.1)
    step(learner, noise, 5)
    with pytest.raises(ValueError, match="non-negative"):
        learner.tell(-1, 1.0)
    with pytest.raises(ValueError, match="integer"):
        learner.tell(1.5, 1.0)
    with pytest.raises(TypeError, match="integer"):
        learner.tell("a", 1.0)
    with pytest.raises(TypeError, match="may not be None"):
        learner.tell(5, None)
    with pytest.raises(TypeError, match="real number"):
        learner.tell(5, [1.0, 2.0])
    with pytest.raises(TypeError, match="real number"):
        learner.tell(5, "1.0")
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many([5, 6], [1.0])
    with pytest.raises(TypeError, match="real number"):
        learner.tell_many([5, 6], [1.0, "x"])
    with pytest.raises(ValueError, match="non-negative"):
        learner.ask(-2)
    with pytest.raises(ValueError, match="non-negative"):
        learner.loss(n=-1)
    assert learner.npoints == 5 and 5 not in learner.data  # nothing of the bad calls was told
    learner.tell(np.int64(5), np.float64(2.0))
    learner.tell(6.0, 3)  # an integral float is a seed (NumPy tables hold seeds as floats)
    assert learner.data[5] == 2.0 and learner.data[6] == 3 and type(learner.data[6]) is int
    learner.tell(5, 100.0)  # told twice: keeps the first value, as python-adaptive
    assert learner.data[5] == 2.0
    assert learner.ask(1)[0] == [7]


def test_average_nan_samples_are_kept_out_of_the_mean() -> None:
    learner = AverageLearner(noise, atol=0.1)
    learner.tell_many([0, 1, 2, 3], [1.0, math.nan, 3.0, math.inf])
    assert learner.npoints == 4 and math.isnan(learner.data[1])
    assert learner.nonfinite_count == 2
    assert learner.mean == 2.0 and learner.std == pytest.approx(math.sqrt(2))
    assert math.isfinite(learner.loss())
    assert learner.ask(1)[0] == [4]


# === AverageLearner1D =============================================================

# --- agreement with the C++ learner (the taskmaster tool) ---------------------


@pytest.mark.parametrize(
    "workers, mode, npoints, loss",
    [(3, "program", 20, None), (1, "worker", 3000, None), (3, "worker", 3000, None), (2, "worker", 2000, "uniform")],
)
def test_average1d_asks_what_the_tool_asked(
    cli: Path, history: Path, workers: int, mode: str, npoints: int, loss: str | None
) -> None:
    helper = str(HELPERS / "avg_noise_1d.py")
    command = (
        ["--worker", f"{PYTHON} -S {helper}"] if mode == "worker" else ["--", PYTHON, "-S", helper, "{x0}", "{x1}"]
    )
    options = ["--loss", loss] if loss else []
    events = run_cli(
        cli,
        ["--learner", "average1d", "--bounds=-1,1", "--learner-param", "min_samples=5", *options,
         "--goal", f"npoints={npoints}", "--seed", "11", "-j", str(workers), *command],
        history,
    )
    learner = AverageLearner1D(noisy_tanh, (-1, 1), loss_per_interval=uniform_loss if loss else None, min_samples=5)
    asked = replay_asks(ScalarTells(learner), events, x_of=lambda x: (x[0], x[1]))
    assert asked == sum(1 for e in events if e["e"] == "ask") >= npoints
    assert learner.nsamples == sum(1 for e in events if e["e"] == "tell")
    assert learner.npoints > 2


# --- agreement with python-adaptive --------------------------------------------


def test_average1d_matches_python_adaptive_when_installed() -> None:
    """One ask(1) and tell at a time: the same points and loss improvements."""
    adaptive = pytest.importorskip("adaptive")
    ours = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=10, delta=0.3)
    theirs = adaptive.AverageLearner1D(noisy_tanh, (-1, 1), min_samples=10, delta=0.3)
    for i in range(4000):
        (p, li), (q, lj) = ours.ask(1), theirs.ask(1)
        assert p == q, i
        assert li == pytest.approx(lj, rel=1e-9), i
        ours.tell(p[0], noisy_tanh(p[0]))
        theirs.tell(q[0], noisy_tanh(q[0]))
    assert ours.data == pytest.approx(dict(theirs.data), rel=1e-12)
    assert ours.error == pytest.approx(dict(theirs.error), rel=1e-8)
    assert list(ours.error) == list(theirs.error)  # the same order: largest first
    assert ours.rescaled_error == pytest.approx(dict(theirs.rescaled_error), rel=1e-8)
    assert ours._data_samples == {x: dict(s) for x, s in theirs._data_samples.items()}
    assert ours._number_samples == dict(theirs._number_samples)
    assert ours.nsamples == theirs.nsamples and ours.npoints == theirs.npoints
    assert ours.min_samples_per_point == theirs.min_samples_per_point
    assert ours.loss() == pytest.approx(theirs.loss(), rel=1e-9)
    assert np.array_equal(ours.to_numpy(), theirs.to_numpy())
    assert np.allclose(ours.to_numpy(mean=True), theirs.to_numpy(mean=True), rtol=1e-12, atol=0)


def test_average1d_save_files_interoperate_with_python_adaptive(tmp_path: Path) -> None:
    adaptive = pytest.importorskip("adaptive")
    ours = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5)
    step(ours, noisy_tanh, 200)
    ours.save(str(tmp_path / "ours.pickle"))
    theirs = adaptive.AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5)
    theirs.load(str(tmp_path / "ours.pickle"))
    assert theirs.nsamples == 200 and theirs.data == pytest.approx(ours.data, rel=1e-12)
    theirs.save(str(tmp_path / "theirs.pickle"))
    back = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5)
    back.load(str(tmp_path / "theirs.pickle"))
    assert back._data_samples == ours._data_samples


# --- python-adaptive's interface ------------------------------------------------


def test_average1d_members() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1))
    for name in [
        "ask", "tell", "tell_many", "tell_many_at_point", "tell_pending", "remove_unfinished", "loss",
        "new", "copy_from", "save", "load", "to_numpy", "to_dataframe", "load_dataframe", "plot",
        "data", "error", "rescaled_error", "nsamples", "min_samples_per_point", "npoints",
        "pending_points", "bounds", "loss_per_interval", "vdim", "delta", "alpha",
        "neighbor_sampling", "min_samples", "max_samples", "min_error", "function",
        "_data_samples", "_number_samples",
    ]:
        assert hasattr(learner, name), name
    assert learner.bounds == (-1.0, 1.0) and learner.vdim == 1
    assert (learner.delta, learner.alpha, learner.neighbor_sampling) == (0.2, 0.005, 0.3)
    assert (learner.min_samples, learner.max_samples, learner.min_error) == (50, sys.maxsize, 0)
    assert learner.loss_per_interval.__name__ == "default_loss"
    assert learner.data == {} and learner.error == {} and learner.rescaled_error == {}
    assert learner.nsamples == learner.npoints == learner.min_samples_per_point == 0
    assert learner.loss() == math.inf
    assert learner.ask(0) == ([], [])


def test_average1d_points_are_seed_x_pairs() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=3)
    points, improvements = learner.ask(3)
    assert points == [(0, -1.0), (1, -1.0), (2, -1.0)]
    assert all(type(s) is int and type(x) is float for s, x in points)
    assert len(improvements) == 3 and learner.pending_points == set(points)
    assert learner.ask(1, tell_pending=False)[0] == learner.ask(1, tell_pending=False)[0]
    learner.tell(points[0], 0.5)
    assert learner.pending_points == set(points[1:])
    assert learner.data == {-1.0: 0.5} and learner.nsamples == 1
    # More samples of a point are asked with the seeds that follow those taken or pending.
    assert learner.ask(2)[0] == [(3, -1.0), (4, -1.0)]


def test_average1d_statistics() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=10, alpha=0.01)
    step(learner, noisy_tanh, 600)
    samples = learner._data_samples
    assert sum(len(s) for s in samples.values()) == learner.nsamples == 600
    assert learner._number_samples == {x: len(s) for x, s in samples.items()}
    assert list(learner.data) == sorted(learner.data) == list(samples)
    scipy_stats = pytest.importorskip("scipy.stats")
    for x, s in samples.items():
        values = list(s.values())
        assert learner.data[x] == pytest.approx(statistics.fmean(values), rel=1e-12)
        n = len(values)
        expected = scipy_stats.t.ppf(0.99, df=n - 1) * statistics.stdev(values) / math.sqrt(n)
        assert learner.error[x] == pytest.approx(expected, rel=1e-7)  # Boost's t quantile, not SciPy's
    errors = list(learner.error.values())
    assert errors == sorted(errors, reverse=True)
    rescaled = learner.rescaled_error
    assert set(rescaled) <= set(learner.data) and list(rescaled.values()) == sorted(rescaled.values(), reverse=True)
    assert learner.min_samples_per_point == min(len(s) for s in samples.values()) >= 10
    data = learner.data
    assert learner.data is data  # unchanged learner: the same dict, no rebuild
    step(learner, noisy_tanh, 1)
    assert learner.data is not data


def test_average1d_to_numpy_and_dataframe() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=4)
    assert learner.to_numpy().shape == (0, 3) and learner.to_numpy(mean=True).shape == (0, 2)
    step(learner, noisy_tanh, 80)
    table = learner.to_numpy()
    assert table.shape == (80, 3)
    assert all(noisy_tanh((int(s), x)) == y for s, x, y in table)
    means = learner.to_numpy(mean=True)
    assert means.shape == (learner.npoints, 2) and means.tolist() == [list(i) for i in learner.data.items()]
    pandas = pytest.importorskip("pandas")
    df = learner.to_dataframe()
    assert isinstance(df, pandas.DataFrame) and list(df.columns) == ["seed", "x", "y"] and len(df) == 80
    assert df.attrs == {"inputs": ["seed", "x"], "output": "y"}
    assert list(learner.to_dataframe(mean=True, x_name="t").columns) == ["t", "y"]
    other = learner.new()
    other.load_dataframe(df)
    assert other._data_samples == learner._data_samples


def test_average1d_tell_many_groups_by_x_and_checks_bounds() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=2)
    with pytest.raises(ValueError, match="out of bounds"):
        learner.tell_many([(0, 0.0), (0, 2.0)], [1.0, 2.0])
    assert learner.nsamples == 0  # nothing told
    learner.tell_many([(0, 0.5), (0, -0.5), (1, 0.5), (1, 0.5)], [1.0, 2.0, 3.0, 4.0])
    assert learner._data_samples == {-0.5: {0: 2.0}, 0.5: {0: 1.0, 1: 4.0}}  # a repeated sample: its last value
    learner.tell_many_at_point(0.5, {2: 5.0, 3: 6.0})
    assert learner.data[0.5] == pytest.approx(4.0) and learner._number_samples[0.5] == 4
    with pytest.raises(ValueError, match="out of bounds"):
        learner.tell_many_at_point(1.5, {0: 1.0})
    learner.tell_many(np.array([[4, 0.5]]), np.array([7.0]))  # a NumPy table: seeds as floats
    assert learner._data_samples[0.5][4] == 7.0


def test_average1d_custom_and_native_losses() -> None:
    calls = []

    def loss(xs: tuple, ys: tuple) -> float:
        calls.append((xs, ys))
        return xs[1] - xs[0]

    learner = AverageLearner1D(noisy_tanh, (-1, 1), loss_per_interval=loss, min_samples=3)
    step(learner, noisy_tanh, 100)
    assert calls and learner.loss_per_interval is loss
    native = AverageLearner1D(noisy_tanh, (-1, 1), loss_per_interval=uniform_loss, min_samples=3)
    assert step(native, noisy_tanh, 100) == step(
        AverageLearner1D(noisy_tanh, (-1, 1), loss_per_interval=loss, min_samples=3), noisy_tanh, 100
    )


def test_average1d_pickle_keeps_pending_samples() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5)
    step(learner, noisy_tanh, 150)
    in_flight, _ = learner.ask(3)
    for copied in (pickle.loads(pickle.dumps(learner)), copy.deepcopy(learner)):
        assert type(copied) is AverageLearner1D
        assert copied.pending_points == learner.pending_points == set(in_flight)
        assert copied._data_samples == learner._data_samples and copied.data == learner.data
        assert copied.error == learner.error and copied.rescaled_error == learner.rescaled_error
        assert copied.loss() == learner.loss() and copied.loss(real=False) == learner.loss(real=False)
        assert copied.min_samples == 5
        assert copied.ask(2, tell_pending=False) == learner.ask(2, tell_pending=False)
    copied = pickle.loads(pickle.dumps(learner))
    for each in (learner, copied):
        each.tell_many(in_flight, [noisy_tanh(p) for p in in_flight])
    assert step(copied, noisy_tanh, 300) == step(learner, noisy_tanh, 300)


def test_average1d_save_load(tmp_path: Path) -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5)
    step(learner, noisy_tanh, 120)
    data = learner._get_data()
    assert data == learner._data_samples and all(isinstance(s, dict) for s in data.values())
    learner.save(str(tmp_path / "avg1d.pickle"))
    loaded = learner.new()
    loaded.load(str(tmp_path / "avg1d.pickle"))
    assert loaded._data_samples == learner._data_samples
    assert loaded.data == pytest.approx(learner.data, rel=1e-12)
    other = learner.new()
    other.copy_from(learner)
    assert other.nsamples == 120


def test_average1d_plot() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=3)
    assert learner.plot() is not None
    step(learner, noisy_tanh, 60)
    ax = learner.plot()
    assert len(ax.lines[0].get_xdata()) == learner.npoints


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"delta": 0}, ValueError, "delta"),
        ({"delta": 1.5}, ValueError, "delta"),
        ({"alpha": 0}, ValueError, "alpha"),
        ({"alpha": 1}, ValueError, "alpha"),
        ({"neighbor_sampling": 0}, ValueError, "neighbor_sampling"),
        ({"min_samples": -1}, ValueError, "min_samples"),
        ({"min_samples": 10, "max_samples": 5}, ValueError, "max_samples"),
        ({"min_error": -1}, ValueError, "min_error"),
        ({"bounds": (1, -1)}, ValueError, "lower bound must be below"),
        ({"bounds": (0, math.nan)}, ValueError, "finite"),
        ({"bounds": (0, 1, 2)}, ValueError, "two numbers"),
        ({"loss_per_interval": 3}, TypeError, "callable"),
    ],
)
def test_average1d_bad_construction(kwargs: dict, error: type, message: str) -> None:
    arguments = {"bounds": (-1, 1), **kwargs}
    with pytest.raises(error, match=message):
        AverageLearner1D(noisy_tanh, **arguments)


def test_average1d_min_samples_zero_acts_as_one() -> None:
    zero = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=0)
    one = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=1)
    assert zero.min_samples == 0
    assert step(zero, noisy_tanh, 200) == step(one, noisy_tanh, 200)


def test_average1d_bad_input_leaves_the_learner_usable() -> None:
    learner = AverageLearner1D(noisy_tanh, (-1, 1), min_samples=3)
    step(learner, noisy_tanh, 10)
    before = learner._data_samples
    for point, value, error, message in [
        ((0, 5.0), 1.0, ValueError, "outside the bounds"),
        ((0, math.nan), 1.0, ValueError, "NaN"),
        (0.5, 1.0, TypeError, "pair"),
        ("ab", 1.0, TypeError, "pair"),
        ((1, 2, 3), 1.0, ValueError, "pair"),
        ((0.5, 0.0), 1.0, ValueError, "integer"),
        ((0, 0.0), None, TypeError, "may not be None"),
        ((0, 0.0), [1.0, 2.0], TypeError, "real number"),
    ]:
        with pytest.raises(error, match=message):
            learner.tell(point, value)
    with pytest.raises(ValueError, match="outside the bounds"):
        learner.tell_pending((0, -3.0))
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many([(0, 0.0), (1, 0.0)], [1.0])
    with pytest.raises(TypeError, match="real number"):
        learner.tell_many_at_point(0.0, {0: "x"})
    with pytest.raises(ValueError, match="non-negative"):
        learner.ask(-1)
    assert learner._data_samples == before
    step(learner, noisy_tanh, 50)
    assert learner.nsamples == 60


def test_average1d_nan_samples_are_counted_not_averaged() -> None:
    def f(seed_x: tuple[int, float]) -> float:
        return math.nan if seed_x[0] % 4 == 3 else noisy_tanh(seed_x)

    learner = AverageLearner1D(f, (-1, 1), min_samples=5)
    step(learner, f, 400)
    assert learner.nan_samples > 0
    assert learner.nsamples + learner.nan_samples == 400
    assert all(math.isfinite(v) for v in learner.data.values())
    assert all(math.isfinite(y) for s in learner._data_samples.values() for y in s.values())


def test_python_adaptive_runners_drive_them() -> None:
    adaptive = pytest.importorskip("adaptive")
    from concurrent.futures import ThreadPoolExecutor

    average = AverageLearner(noise, atol=0.02)
    curves = [AverageLearner1D(noisy_tanh, (-1, 1), min_samples=5), AverageLearner1D(noisy_tanh, (0, 1), min_samples=5)]
    balancing = adaptive.BalancingLearner(curves)
    with ThreadPoolExecutor(4) as executor:
        adaptive.BlockingRunner(average, loss_goal=1, executor=executor, ntasks=4)
        adaptive.BlockingRunner(balancing, npoints_goal=40, executor=executor, ntasks=4)
    assert average.loss() <= 1 and average.mean == pytest.approx(1.0, abs=0.1)
    assert sum(c.npoints for c in curves) >= 40
    assert all(c.nsamples == sum(c._number_samples.values()) for c in curves)


def test_ask_and_tell_are_compiled_methods() -> None:
    """The hot path is not wrapped in Python."""
    for cls in (AverageLearner, AverageLearner1D):
        for name in ("ask", "tell"):
            assert type(getattr(cls, name)).__name__ == "instancemethod", (cls, name)
