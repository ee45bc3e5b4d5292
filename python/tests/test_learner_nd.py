"""LearnerND through the Python package: agreement with the C++ learner (the
taskmaster tool) and with python-adaptive's loss functions, adaptive's
interface, pickling, files, bad input."""

from __future__ import annotations

import math
import pickle
import sys

import numpy as np
import pytest

from taskmaster.learner import learnerND as losses
from taskmaster.learner.base_learner import uses_nth_neighbors
from taskmaster.learner.learnerND import LearnerND

from conftest import HELPERS, replay_asks, run_cli

sys.path.insert(0, str(HELPERS))
from mesh_functions import pair, ring, sphere  # noqa: E402

HELPER = str(HELPERS / "mesh_functions.py")
CUBE = [(-1, 1), (-1, 1), (-1, 1)]


def f_sphere(p):
    return sphere(*p)


def f_ring(p):
    return ring(*p)


def f_pair(p):
    return np.array(pair(*p))


def run_sequentially(learner, n: int, function=None) -> None:
    function = function or learner.function
    for _ in range(n):
        points, _ = learner.ask(1)
        learner.tell(points[0], function(points[0]))


def asks(learner, n: int) -> list:
    out = []
    for _ in range(n):
        points, _ = learner.ask(1)
        out.append(points[0])
        learner.tell(points[0], learner.function(points[0]))
    return out


def scalar_values(events: list[dict]) -> list[dict]:
    """The tool reads every output as a vector; a scalar function's values as scalars."""
    for event in events:
        if event["e"] == "tell":
            (event["y"],) = event["y"]
    return events


# --- agreement with the C++ learner ---------------------------------------------


@pytest.mark.parametrize(
    "loss, params, workers",
    [
        ("default", {}, 1),
        ("default", {}, 4),
        ("uniform", {}, 2),
        ("std", {}, 3),
        ("triangle", {}, 1),
        ("curvature", {"exploration": 0.1}, 4),
    ],
)
def test_asks_what_the_cpp_learner_asked(cli, history, loss: str, params: dict, workers: int) -> None:
    arguments = ["--learner", "nd", "--bounds", "-1,1", "--bounds", "-1,1", "--bounds", "0,1.5",
                 "--loss", loss]
    for name, value in params.items():
        arguments += ["--loss-param", f"{name}={value}"]
    arguments += ["--goal", "npoints=300", "-j", str(workers),
                  "--worker", f"{sys.executable} {HELPER} --worker sphere"]
    events = scalar_values(run_cli(cli, arguments, history))
    python_loss = {
        "default": None,
        "uniform": losses.uniform_loss,
        "std": losses.std_loss,
        "triangle": losses.triangle_loss,
        "curvature": losses.curvature_loss_function(**params),
    }[loss]
    learner = LearnerND(f_sphere, [(-1, 1), (-1, 1), (0, 1.5)], loss_per_simplex=python_loss)
    assert replay_asks(learner, events, x_of=tuple) >= 300


def test_asks_what_the_cpp_learner_asked_in_2d_with_vector_outputs(cli, history) -> None:
    events = run_cli(
        cli,
        ["--learner", "nd", "--bounds", "-1,1", "--bounds", "-1,1", "--goal", "npoints=300",
         "-j", "3", "--worker", f"{sys.executable} {HELPER} --worker pair"],
        history,
    )
    learner = LearnerND(f_pair, [(-1, 1), (-1, 1)])
    assert replay_asks(learner, events, x_of=tuple) == 300
    assert learner.vdim == 2 and learner.to_numpy().shape == (300, 4)


# --- the loss functions ----------------------------------------------------------------


def random_cases(dim: int, vdim: int, count: int = 30):
    """Random simplices, values and neighbours (some missing), as python-adaptive passes them."""
    rng = np.random.default_rng(dim * 10 + vdim)
    for _ in range(count):
        simplex = rng.random((dim + 1, dim))
        shape = (dim + 1,) if vdim == 1 else (dim + 1, vdim)
        values = rng.random(shape)
        neighbors = [rng.random(dim) for _ in range(dim + 1)]
        neighbor_values = [float(rng.random()) if vdim == 1 else rng.random(vdim) for _ in range(dim + 1)]
        neighbors[0] = neighbor_values[0] = None
        yield simplex, values, float(rng.random() + 0.5), neighbors, neighbor_values


@pytest.mark.parametrize("name", ["default_loss", "uniform_loss", "std_loss", "triangle_loss", "curvature"])
@pytest.mark.parametrize("dim, vdim", [(2, 1), (3, 1), (3, 2), (4, 1)])
def test_native_losses_called_as_adaptives_agree_with_adaptives(name: str, dim: int, vdim: int) -> None:
    adaptive = pytest.importorskip("adaptive")
    module = adaptive.learner.learnerND

    def pick(m):
        return m.curvature_loss_function(0.2) if name == "curvature" else getattr(m, name)

    ours, theirs = pick(losses), pick(module)
    assert ours.nth_neighbors == getattr(theirs, "nth_neighbors", 0)
    for simplex, values, scale, neighbors, neighbor_values in random_cases(dim, vdim):
        args = (simplex, values, scale) + ((neighbors, neighbor_values) if ours.nth_neighbors else ())
        expected = float(np.asarray(theirs(*args)).ravel()[0])
        assert ours(*args) == pytest.approx(expected, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize(
    "name", ["default_loss", "uniform_loss", "std_loss", "triangle_loss", "curvature_loss_function"]
)
def test_adaptives_loss_objects_run_natively(name: str) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs = getattr(adaptive.learner.learnerND, name)
    ours = getattr(losses, name)
    if name == "curvature_loss_function":
        theirs, ours = theirs(exploration=0.3), ours(exploration=0.3)
    spec = losses.native_spec(theirs)
    assert spec == losses.native_spec(ours) and spec is not None
    a = LearnerND(f_sphere, CUBE, loss_per_simplex=theirs)
    b = LearnerND(f_sphere, CUBE, loss_per_simplex=ours)
    assert asks(a, 150) == asks(b, 150)
    assert a.loss_per_simplex is theirs and a.nth_neighbors == b.nth_neighbors


def test_loss_functions_have_adaptives_names() -> None:
    for name in ("default_loss", "uniform_loss", "std_loss", "triangle_loss"):
        assert isinstance(getattr(losses, name), losses.NativeSimplexLoss)
    assert losses.triangle_loss.nth_neighbors == 1 and losses.default_loss.nth_neighbors == 0
    assert losses.curvature_loss_function().params == {"exploration": 0.05}
    assert losses.curvature_loss_function().nth_neighbors == 1
    with pytest.raises(ValueError, match="exploration"):
        losses.curvature_loss_function(-1)
    square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert losses.uniform_loss(square, [0.0, 0.0, 0.0], 1.0) == pytest.approx(0.5)
    assert losses.default_loss(square, [0.0, 0.0, 0.0], 1.0) == pytest.approx(0.5)


# --- losses written in Python ------------------------------------------------------------


def test_python_loss_gets_adaptives_arguments_and_matches_the_native_one() -> None:
    seen = []

    def loss(simplex, values, value_scale):
        seen.append((simplex, values, value_scale))
        return losses.default_loss(simplex, values, value_scale)

    mine = LearnerND(f_sphere, CUBE, loss_per_simplex=loss)
    native = LearnerND(f_sphere, CUBE)
    assert asks(mine, 200) == asks(native, 200)
    assert mine.loss() == native.loss()
    simplex, values, value_scale = seen[-1]
    assert simplex.shape == (4, 3) and values.shape == (4,)
    assert np.all((simplex >= 0) & (simplex <= 1))  # unit-cube coordinates
    # python-adaptive's value_scale: what the values were multiplied by (1 / their range).
    assert value_scale == pytest.approx(1 / 2, rel=0.1)


def test_python_loss_sees_zeros_before_the_first_value() -> None:
    shapes = set()

    def loss(simplex, values, value_scale):
        shapes.add((np.shape(simplex), np.shape(values), float(np.abs(values).max())))
        return 1.0

    learner = LearnerND(f_sphere, CUBE, loss_per_simplex=loss)
    points, _ = learner.ask(12)  # the corners are pending: nothing is known yet
    assert len(set(points)) == 12
    assert shapes == {((4, 3), (4,), 0.0)}


def test_python_loss_with_neighbours_matches_the_native_triangle_loss() -> None:
    seen = []

    @uses_nth_neighbors(1)
    def loss(simplex, values, value_scale, neighbors, neighbor_values):
        seen.append((neighbors, neighbor_values))
        return losses.triangle_loss(simplex, values, value_scale, neighbors, neighbor_values)

    mine = LearnerND(f_sphere, CUBE, loss_per_simplex=loss)
    native = LearnerND(f_sphere, CUBE, loss_per_simplex=losses.triangle_loss)
    assert mine.nth_neighbors == 1
    assert asks(mine, 150) == asks(native, 150)
    assert any(len(n) == 4 for n, _ in seen)
    for neighbors, neighbor_values in seen:
        assert len(neighbors) == len(neighbor_values) <= 4
        assert all(n.shape == (3,) for n in neighbors)
        assert all(isinstance(v, float) for v in neighbor_values)


def test_python_loss_with_vector_outputs() -> None:
    shapes = set()

    def loss(simplex, values, value_scale):
        shapes.add(np.shape(values))
        return float(np.ptp(values, axis=0).max() + 1e-3)

    learner = LearnerND(f_pair, [(-1, 1), (-1, 1)], loss_per_simplex=loss)
    run_sequentially(learner, 100)
    assert shapes == {(3, 2)}
    assert math.isfinite(learner.loss())


def test_a_failing_python_loss_raises_its_exception_and_the_learner_survives() -> None:
    fail = [False]

    def loss(simplex, values, value_scale):
        if fail[0]:
            raise KeyError("boom")
        return losses.uniform_loss(simplex, values, value_scale)

    learner = LearnerND(f_sphere, CUBE, loss_per_simplex=loss)
    run_sequentially(learner, 20)
    fail[0] = True
    with pytest.raises(KeyError, match="boom"):
        run_sequentially(learner, 5)
    fail[0] = False
    run_sequentially(learner, 20)
    assert learner.npoints >= 40


def test_a_python_loss_may_not_use_its_own_learner() -> None:
    box = {}

    def loss(simplex, values, value_scale):
        box["learner"].to_numpy()  # in the middle of the learner's update
        return losses.uniform_loss(simplex, values, value_scale)

    learner = box["learner"] = LearnerND(f_sphere, CUBE, loss_per_simplex=loss)
    with pytest.raises(RuntimeError, match="inside its own loss"):
        run_sequentially(learner, 12)
    box["learner"] = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 10)
    assert learner.npoints >= 10


def test_loss_arguments_refused_as_adaptive_refuses_them() -> None:
    @uses_nth_neighbors(2)
    def far(simplex, values, value_scale, neighbors, neighbor_values):
        return 1.0

    with pytest.raises(NotImplementedError, match="nth_neighbors"):
        LearnerND(f_sphere, CUBE, loss_per_simplex=far)
    with pytest.raises(TypeError, match="callable"):
        LearnerND(f_sphere, CUBE, loss_per_simplex=42)


# --- adaptive's interface ------------------------------------------------------------------


def test_ask_shapes_and_pending_points() -> None:
    learner = LearnerND(f_sphere, CUBE)
    points, improvements = learner.ask(10)
    assert len(points) == len(improvements) == 10
    assert all(isinstance(p, tuple) and len(p) == 3 for p in points)
    assert points[:8] == sorted(points[:8]) and improvements[:8] == [math.inf] * 8
    assert learner.pending_points == set(points)
    assert not learner.bounds_are_done and learner.loss() == math.inf
    for p in points[:8]:
        learner.tell(p, f_sphere(p))
    assert learner.bounds_are_done
    assert learner.pending_points == set(points[8:])
    learner.tell(points[8], None)  # python-adaptive: None means pending
    assert points[8] in learner.pending_points
    learner.remove_unfinished()
    assert learner.pending_points == set()
    looked, _ = learner.ask(3, tell_pending=False)
    assert learner.pending_points == set()
    assert learner.ask(1)[0][0] == looked[0]


def test_loss_with_pending_points() -> None:
    learner = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 100)
    real = learner.loss()
    learner.ask(10)
    assert learner.loss() == real
    assert learner.loss(real=False) < real


def test_members_mirror_adaptive() -> None:
    pytest.importorskip("scipy")
    learner = LearnerND(f_sphere, [(0, 2), (-1, 3), (0, 1)])
    assert learner.bounds == ((0.0, 2.0), (-1.0, 3.0), (0.0, 1.0))
    assert learner.ndim == 3 and learner.vdim == 1 and learner.nth_neighbors == 0
    assert learner.loss_per_simplex is losses.default_loss
    run_sequentially(learner, 40)
    assert learner.npoints == 40
    assert learner.points.shape == (40, 3) and learner.values.shape == (40,)
    np.testing.assert_array_equal(learner.points[0], next(iter(learner.data)))
    assert learner.inside_bounds((2, 3, 1)) and learner.inside_bounds((2 + 1e-9, 3, 1))
    assert not learner.inside_bounds((2.1, 0, 0))
    point = next(iter(learner.data))
    assert learner.ip()(point) == pytest.approx(learner.data[point])
    assert learner.interpolate([point])[0] == pytest.approx(learner.data[point])
    fresh = learner.new()
    assert fresh.npoints == 0 and fresh.bounds == learner.bounds
    copy = learner.new()
    copy.copy_from(learner)
    assert copy.data == learner.data
    learner.tell(point, 123.0)  # known: ignored, as python-adaptive does
    assert learner.data[point] != 123.0


def test_vector_outputs() -> None:
    learner = LearnerND(f_pair, [(-1, 1), (-1, 1)])
    run_sequentially(learner, 150)
    assert learner.vdim == 2
    assert all(isinstance(v, np.ndarray) and v.shape == (2,) for v in learner.data.values())
    assert math.isfinite(learner.loss())
    assert learner.to_numpy().shape == (150, 4)
    assert learner.interpolate([(0.1, 0.2), (0.3, 0.4)]).shape == (2, 2)


def test_to_numpy_is_sorted_data() -> None:
    learner = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 50)
    expected = np.array([(*p, v) for p, v in sorted(learner.data.items())])
    np.testing.assert_array_equal(learner.to_numpy(), expected)
    assert LearnerND(f_sphere, CUBE).to_numpy().shape == (0, 4)


def test_interpolation_is_exact_for_a_linear_function() -> None:
    def plane(p):
        return 1 + 2 * p[0] - p[1] + 0.5 * p[2]

    learner = LearnerND(plane, [(0, 1), (0, 2), (-1, 1)])
    run_sequentially(learner, 60)
    rng = np.random.default_rng(1)
    points = rng.random((50, 3)) * [1, 2, 2] + [0, 0, -1]
    np.testing.assert_allclose(learner.interpolate(points), [plane(p) for p in points], atol=1e-12)
    assert np.isnan(learner.interpolate([(5.0, 0.0, 0.0)])[0])


def test_tell_many_matches_telling_one_by_one() -> None:
    source = LearnerND(f_sphere, CUBE)
    run_sequentially(source, 150)
    points = np.array(list(source.data))
    values = np.array(list(source.data.values()))
    bulk, single = LearnerND(f_sphere, CUBE), LearnerND(f_sphere, CUBE)
    bulk.tell_many(points, values)
    for p, v in zip(points, values):
        single.tell(tuple(p), v)
    assert bulk.data == single.data == source.data
    assert asks(bulk, 50) == asks(single, 50)


def test_nan_values_do_not_stop_learning() -> None:
    def holes(p):
        return math.nan if p[0] > 0.5 else f_sphere(p)

    learner = LearnerND(holes, CUBE)
    run_sequentially(learner, 200)
    assert learner.npoints == 200
    assert any(math.isnan(v) for v in learner.data.values())
    assert math.isfinite(learner.loss())


def test_points_outside_the_bounds_are_kept_but_not_learned() -> None:
    learner = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 50)
    loss = learner.loss()
    learner.tell((2.0, 0.0, 0.0), 1.0)
    learner.tell_pending((3.0, 0.0, 0.0))
    assert learner.data[(2.0, 0.0, 0.0)] == 1.0 and learner.npoints == 51
    assert (3.0, 0.0, 0.0) not in learner.pending_points
    assert learner.loss() == loss
    assert learner.to_numpy().shape == (51, 4)


# --- pickling and files ------------------------------------------------------------------


def test_pickle_round_trip_asks_the_same_points() -> None:
    learner = LearnerND(f_sphere, CUBE, loss_per_simplex=losses.curvature_loss_function())
    run_sequentially(learner, 120)
    learner.ask(3)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    assert copy.pending_points == learner.pending_points
    assert copy.loss() == learner.loss()
    assert asks(copy, 80) == asks(learner, 80)


def test_pickle_keeps_a_lambda_function_and_vector_outputs() -> None:
    learner = LearnerND(lambda p: np.array([p[0], p[1] ** 2]), [(-1, 1), (-1, 1)])
    run_sequentially(learner, 40)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.function((0.5, 2.0)).tolist() == [0.5, 4.0]
    assert copy.vdim == 2
    assert asks(copy, 30) == asks(learner, 30)


def test_save_and_load(tmp_path) -> None:
    learner = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 100)
    fname = tmp_path / "learner.pickle"
    learner.save(str(fname))
    loaded = learner.new()
    loaded.load(str(fname))
    assert loaded.data == learner.data
    assert math.isfinite(loaded.loss())


def test_loads_a_file_python_adaptive_wrote(tmp_path) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs = adaptive.LearnerND(f_sphere, bounds=CUBE)
    run_sequentially(theirs, 60)
    theirs.save(str(tmp_path / "theirs.pickle"))
    ours = LearnerND(f_sphere, CUBE)
    ours.load(str(tmp_path / "theirs.pickle"))
    assert ours.data == theirs.data and ours.bounds_are_done
    run_sequentially(ours, 20)
    assert ours.npoints == 80


def test_dataframe_round_trip() -> None:
    pytest.importorskip("pandas")

    def g(p, scale=2.0):
        return scale * f_sphere(p)

    learner = LearnerND(g, CUBE)
    run_sequentially(learner, 60)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "z", "value", "function.scale"]
    assert df.attrs == {"inputs": ["x", "y", "z"], "output": "value"}
    other = LearnerND(g, CUBE)
    other.load_dataframe(df)
    assert other.data == learner.data
    with pytest.raises(ValueError, match="point_names"):
        LearnerND(f_ring, [(-1, 1), (-1, 1)]).to_dataframe()


def test_dataframe_is_adaptives() -> None:
    pytest.importorskip("pandas")
    adaptive = pytest.importorskip("adaptive")

    def g(p, scale=2.0):
        return scale * f_sphere(p)

    learner = LearnerND(g, CUBE)
    run_sequentially(learner, 60)
    df = learner.to_dataframe()
    theirs = adaptive.LearnerND(g, CUBE)
    theirs.tell_many(list(learner.data), list(learner.data.values()))
    assert theirs.to_dataframe().equals(df)


def test_plots_draw_with_matplotlib() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    flat = LearnerND(f_ring, [(-1, 1), (-1, 1)])
    run_sequentially(flat, 100)
    ax = flat.plot(n=30)
    assert ax.get_images()[0].get_array().shape == (30, 30)
    cube = LearnerND(f_sphere, CUBE)
    run_sequentially(cube, 100)
    with pytest.raises(NotImplementedError, match="plot_slice"):
        cube.plot()
    assert cube.plot_slice({2: 0.0}, n=20).get_images()
    assert cube.plot_slice({1: 0.0, 2: 0.0}).get_lines()
    with pytest.raises(ValueError, match="1 or 2"):
        cube.plot_slice({})
    vector = LearnerND(f_pair, [(-1, 1), (-1, 1)])
    run_sequentially(vector, 20)
    with pytest.raises(NotImplementedError):
        vector.plot()


def test_plot_without_matplotlib_names_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="matplotlib"):
        LearnerND(f_ring, [(-1, 1), (-1, 1)]).plot()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds, message",
    [([(1, -1), (-1, 1)], "bounds"), ([(-1, 1)], "2 dimensions"), ([(-1, 1), (0, math.inf)], "bounds"),
     ([(-1, 1), (0, 1, 2)], "pairs"), ([(-1, 1), (2, 2)], "bounds")],
)
def test_bad_bounds(bounds, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LearnerND(f_ring, bounds)


def test_unsupported_options_are_refused() -> None:
    scipy_spatial = pytest.importorskip("scipy.spatial")
    hull = scipy_spatial.ConvexHull([(0, 0), (1, 0), (0, 1)])
    with pytest.raises(NotImplementedError, match="ConvexHull"):
        LearnerND(f_ring, hull)
    with pytest.raises(NotImplementedError, match="anisotropic"):
        LearnerND(f_ring, [(-1, 1), (-1, 1)], anisotropic=True)
    assert LearnerND(f_ring, [(-1, 1), (-1, 1)], triangulation_backend="python").ndim == 2


def test_bad_input_raises_and_the_learner_stays_usable() -> None:
    learner = LearnerND(f_sphere, CUBE)
    run_sequentially(learner, 30)
    before = dict(learner.data)
    cases = [
        (lambda: learner.tell((0.1, math.nan, 0.0), 1.0), ValueError, "NaN"),
        (lambda: learner.tell((0.1, 0.2), 1.0), ValueError, "3 coordinates"),
        (lambda: learner.tell((0.1, 0.2, 0.3), [1.0, 2.0]), ValueError, "vector"),
        (lambda: learner.tell((0.1, 0.2, 0.3), "high"), TypeError, "number"),
        (lambda: learner.tell_many([(0.1, 0.2, 0.3)], [1.0, 2.0]), ValueError, "1 points but 2 values"),
        (lambda: learner.tell_many([(0.1, math.nan, 0.3)], [1.0]), ValueError, "NaN"),
        (lambda: learner.tell_pending((math.nan, 0.0, 0.0)), ValueError, "NaN"),
        (lambda: learner._fail((0.5, 0.5, 0.5)), ValueError, "not pending"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    assert learner.data == before
    run_sequentially(learner, 30)
    assert learner.npoints == 60
