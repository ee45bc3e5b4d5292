"""Learner2D through the Python package: agreement with the C++ learner (the
taskmaster tool) and with python-adaptive's loss functions, adaptive's
interface, pickling, files, bad input."""

from __future__ import annotations

import math
import pickle
import sys
import time
import warnings

import numpy as np
import pytest

from taskmaster.learner import learner2D as losses
from taskmaster.learner.learner2D import Learner2D

from conftest import HELPERS, replay_asks, run_cli

sys.path.insert(0, str(HELPERS))
from mesh_functions import pair, ring  # noqa: E402

HELPER = str(HELPERS / "mesh_functions.py")
BOUNDS = [(-1, 1), (-1, 1)]


def f_ring(xy):
    return ring(*xy)


def f_pair(xy):
    return np.array(pair(*xy))


def run_sequentially(learner, n: int, function=None) -> None:
    function = function or learner.function
    for _ in range(n):
        points, _ = learner.ask(1)
        learner.tell(points[0], function(points[0]))


def asks(learner, n: int) -> list:
    """The next n points the learner asks one at a time, telling each result."""
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


def test_asks_what_the_cpp_learner_asked_one_program_per_point(cli, history) -> None:
    events = run_cli(
        cli,
        ["--learner", "2d", "--bounds", "-1,1", "--bounds", "-1,1", "--goal", "npoints=120",
         "-j", "1", "--", sys.executable, HELPER, "ring", "{x0}", "{x1}"],
        history,
    )
    assert replay_asks(Learner2D(f_ring, BOUNDS), scalar_values(events), x_of=tuple) == 120


@pytest.mark.parametrize(
    "loss, params, workers",
    [
        ("default", {}, 4),
        ("uniform", {}, 2),
        ("minimize_triangle_surface", {}, 3),
        ("triangle", {}, 1),
        ("resolution", {"min_distance": 0.02, "max_distance": 0.4}, 4),
    ],
)
def test_asks_what_the_cpp_learner_asked(cli, history, loss: str, params: dict, workers: int) -> None:
    arguments = ["--learner", "2d", "--bounds", "-1,2", "--bounds", "-1,1", "--loss", loss]
    for name, value in params.items():
        arguments += ["--loss-param", f"{name}={value}"]
    arguments += ["--goal", "npoints=400", "-j", str(workers), "--worker", f"{sys.executable} {HELPER} --worker ring"]
    events = scalar_values(run_cli(cli, arguments, history))
    python_loss = {
        "default": None,
        "uniform": losses.uniform_loss,
        "minimize_triangle_surface": losses.minimize_triangle_surface_loss,
        "triangle": losses.triangle_loss,
        "resolution": losses.resolution_loss_function(**params),
    }[loss]
    learner = Learner2D(f_ring, [(-1, 2), (-1, 1)], loss_per_triangle=python_loss)
    assert replay_asks(learner, events, x_of=tuple) >= 400


def test_asks_what_the_cpp_learner_asked_for_vector_outputs(cli, history) -> None:
    events = run_cli(
        cli,
        ["--learner", "2d", "--bounds", "-1,1", "--bounds", "-1,1", "--goal", "npoints=300",
         "-j", "3", "--worker", f"{sys.executable} {HELPER} --worker pair"],
        history,
    )
    learner = Learner2D(f_pair, BOUNDS)
    assert replay_asks(learner, events, x_of=tuple) == 300
    assert learner.vdim == 2
    assert learner.to_numpy().shape == (300, 4)


# --- the loss functions ----------------------------------------------------------------


def adaptive_interpolator(adaptive, n: int = 150, function=f_ring):
    """The scaled interpolator of a python-adaptive Learner2D after n points."""
    learner = adaptive.Learner2D(function, bounds=BOUNDS)
    run_sequentially(learner, n)
    return learner.interpolator(scaled=True)


@pytest.mark.parametrize(
    "name",
    ["default_loss", "uniform_loss", "minimize_triangle_surface_loss", "triangle_loss",
     "resolution", "thresholded"],
)
@pytest.mark.parametrize("function", [f_ring, f_pair], ids=["scalar", "vector"])
def test_native_losses_called_as_adaptives_agree_with_adaptives(name: str, function) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs_module = adaptive.learner.learner2D
    factories = {
        "resolution": lambda m: m.resolution_loss_function(min_distance=0.05, max_distance=0.3),
        "thresholded": lambda m: m.thresholded_loss_function(lower_threshold=-0.2, upper_threshold=0.8),
    }
    make = factories.get(name, lambda m: getattr(m, name))
    ip = adaptive_interpolator(adaptive, function=function)
    ours = np.asarray(make(losses)(ip), dtype=float)
    if name == "minimize_triangle_surface_loss" and function is f_pair:
        # python-adaptive's takes a 3D cross product: scalar outputs only.
        assert ours.shape == (len(ip.tri.simplices),) and np.all(np.isfinite(ours))
        return
    theirs = np.asarray(make(theirs_module)(ip), dtype=float)
    assert ours.shape == theirs.shape == (len(ip.tri.simplices),)
    # Volumes in 3 or 4 dimensions come from a determinant of squares in
    # both libraries (computed differently): near-flat ones agree to
    # about 1e-7 of the largest loss, the rest closely.
    atol = 1e-6 * theirs.max() if name == "triangle_loss" else 1e-13
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=atol)


def test_areas_and_deviations_agree_with_adaptives() -> None:
    adaptive = pytest.importorskip("adaptive")
    for function in (f_ring, f_pair):
        ip = adaptive_interpolator(adaptive, function=function)
        np.testing.assert_allclose(losses.areas(ip), adaptive.learner.learner2D.areas(ip), rtol=1e-14)
        np.testing.assert_allclose(
            losses.deviations(ip), adaptive.learner.learner2D.deviations(ip), rtol=1e-9, atol=1e-14
        )


@pytest.mark.parametrize(
    "name, params",
    [
        ("default_loss", {}),
        ("uniform_loss", {}),
        ("minimize_triangle_surface_loss", {}),
        ("triangle_loss", {}),
        ("resolution_loss_function", {"min_distance": 0.01, "max_distance": 0.5}),
        ("thresholded_loss_function", {"lower_threshold": 0.1, "upper_threshold": None, "priority_factor": 0.5}),
    ],
)
def test_adaptives_loss_objects_run_natively(name: str, params: dict) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs = getattr(adaptive.learner.learner2D, name)
    ours = getattr(losses, name)
    if params:
        theirs, ours = theirs(**params), ours(**params)
    spec = losses.native_spec(theirs)
    assert spec == losses.native_spec(ours) and spec is not None
    # The same native loss: the same points, far quicker than a Python loss.
    a = Learner2D(f_ring, BOUNDS, loss_per_triangle=theirs)
    b = Learner2D(f_ring, BOUNDS, loss_per_triangle=ours)
    assert asks(a, 200) == asks(b, 200)
    assert a.loss_per_triangle is theirs


def test_loss_functions_have_adaptives_names_and_parameters() -> None:
    for name in ("default_loss", "uniform_loss", "minimize_triangle_surface_loss", "triangle_loss"):
        assert isinstance(getattr(losses, name), losses.NativeTriangleLoss)
    assert losses.resolution_loss_function().params == {"min_distance": 0.0, "max_distance": 1.0}
    assert losses.thresholded_loss_function().params == {
        "lower_threshold": None,
        "upper_threshold": None,
        "priority_factor": 0.1,
    }
    assert losses.resolution_loss_function(0.1, 0.2) == losses.resolution_loss_function(0.1, 0.2)
    with pytest.raises(ValueError, match="min_distance"):
        losses.resolution_loss_function(0.5, 0.1)
    with pytest.raises(ValueError, match="priority_factor"):
        losses.thresholded_loss_function(priority_factor=-1)


def test_resolution_loss_limits_the_triangle_size() -> None:
    loss = losses.resolution_loss_function(min_distance=0.05, max_distance=0.3)
    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    run_sequentially(learner, 4)
    # Triangles larger than max_distance**2 come first, whatever the function.
    assert learner.loss() == math.inf
    run_sequentially(learner, 3000)
    # Triangles smaller than min_distance**2 (of the unit square) have loss 0:
    # once every triangle is that small, nothing is worth refining.
    assert learner.loss() == 0
    # Slivers appear then; the automatic grid stays bounded.
    _, _, zs = learner.interpolated_on_grid()
    assert 10 <= zs.shape[0] <= 1000


# --- losses written in Python ------------------------------------------------------------


def test_python_loss_sees_an_interpolator_of_the_triangle_and_its_neighbours() -> None:
    pytest.importorskip("scipy")
    seen = []

    def loss(ip):
        seen.append((ip.tri.points.copy(), ip.values.copy(), len(ip.tri.simplices)))
        return 2 * np.sqrt(losses.areas(ip))

    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    run_sequentially(learner, 100)
    assert seen
    for points, values, triangles in seen:
        assert 3 <= len(points) <= 6 and points.shape[1] == 2
        assert values.shape == (len(points), 1)
        assert 1 <= triangles <= 7
        # Scaled coordinates, as python-adaptive's ip: the bounds map onto [-0.5, 0.5]^2.
        assert np.all(np.abs(points) <= 0.5)
    # The learner's loss is the loss of its largest triangle (the triangle's own entry).
    corners = learner._scale(learner._triangles().reshape(-1, 2)).reshape(-1, 3, 2)
    u, v = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    largest = (np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2).max()
    assert learner.loss() == pytest.approx(2 * math.sqrt(largest), rel=1e-12)


def test_python_loss_sees_zeros_before_the_first_value() -> None:
    pytest.importorskip("scipy")
    seen = set()

    def loss(ip):
        seen.add((ip.values.shape[1], float(np.abs(ip.values).max())))
        return np.sqrt(losses.areas(ip))

    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    points, _ = learner.ask(8)  # the corners are pending: nothing is known yet
    assert len(set(points)) == 8
    assert seen == {(1, 0.0)}


def test_python_loss_with_adaptives_helpers_refines_the_ring() -> None:
    pytest.importorskip("scipy")
    def loss(ip):
        return np.sum(losses.deviations(ip), axis=0) * np.sqrt(losses.areas(ip)) + 0.3 * losses.areas(ip)

    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    run_sequentially(learner, 200)
    table = learner.to_numpy()
    radius = np.hypot(table[:, 0], table[:, 1])
    # More points near the ridge (radius 0.75) than a uniform spread would put there.
    near = np.mean(np.abs(radius - 0.75) < 0.1)
    assert near > 0.25


def test_a_failing_python_loss_raises_its_exception_and_the_learner_survives() -> None:
    pytest.importorskip("scipy")
    fail = [False]

    def loss(ip):
        if fail[0]:
            raise ZeroDivisionError("boom")
        return np.sqrt(losses.areas(ip))

    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    run_sequentially(learner, 20)
    fail[0] = True
    with pytest.raises(ZeroDivisionError, match="boom"):
        run_sequentially(learner, 5)
    fail[0] = False
    run_sequentially(learner, 20)
    assert learner.npoints >= 40


def test_a_python_loss_may_not_use_its_own_learner() -> None:
    pytest.importorskip("scipy")
    box = {}

    def loss(ip):
        box["learner"].loss()  # in the middle of the learner's update
        return np.sqrt(losses.areas(ip))

    learner = box["learner"] = Learner2D(f_ring, BOUNDS, loss_per_triangle=loss)
    with pytest.raises(RuntimeError, match="inside its own loss"):
        run_sequentially(learner, 10)
    box["learner"] = Learner2D(f_ring, BOUNDS)  # a loss may use another learner
    run_sequentially(learner, 10)
    assert learner.npoints >= 10


def test_a_python_loss_returning_garbage_is_a_type_error() -> None:
    pytest.importorskip("scipy")
    learner = Learner2D(f_ring, BOUNDS, loss_per_triangle=lambda ip: ["no"] * len(ip.tri.simplices))
    with pytest.raises((TypeError, ValueError)):
        run_sequentially(learner, 10)


def test_bad_loss_argument() -> None:
    with pytest.raises(TypeError, match="callable"):
        Learner2D(f_ring, BOUNDS, loss_per_triangle=42)


# --- adaptive's interface ------------------------------------------------------------------


def test_ask_shapes_and_pending_points() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    points, improvements = learner.ask(5)
    assert len(points) == len(improvements) == 5
    assert all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(c, float) for c in p) for p in points)
    assert points[:4] == [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    assert improvements[:4] == [math.inf] * 4
    assert learner.pending_points == set(points)
    assert not learner.bounds_are_done
    assert learner.loss() == math.inf
    for p in points[:4]:
        learner.tell(p, f_ring(p))
    assert learner.bounds_are_done
    assert learner.pending_points == {points[4]}
    learner.remove_unfinished()
    assert learner.pending_points == set()


def test_ask_and_tell_take_adaptives_keywords_and_refuse_bad_calls() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    points, _ = learner.ask(n=2, tell_pending=False)
    assert learner.pending_points == set()
    assert learner.ask(n=2)[0] == points
    learner.tell(point=points[0], value=0.5)
    assert learner.data == {points[0]: 0.5}
    for call, message in [
        (lambda: learner.tell(points[1]), "point and a value"),
        (lambda: learner.tell(points[1], 1.0, 2.0), "at most 2"),
        (lambda: learner.tell(points[1], val=1.0), "unexpected keyword"),
        (lambda: learner.tell(points[1], 1.0, point=points[1]), "multiple values"),
        (lambda: learner.ask(), "'n'"),
        (lambda: learner.ask("2"), "integer"),
        (lambda: Learner2D.__new__(Learner2D).tell((0.0, 0.0), 1.0), "not initialised"),
    ]:
        with pytest.raises(TypeError, match=message):
            call()
    with pytest.raises(ValueError, match=">= 0"):
        learner.ask(-1)

    class Mine(Learner2D):
        pass

    mine = Mine(f_ring, BOUNDS)
    run_sequentially(mine, 10)
    assert mine.npoints == 10


def test_ask_without_tell_pending_changes_nothing() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 50)
    before = dict(learner.data)
    looked, improvements = learner.ask(7, tell_pending=False)
    assert len(set(looked)) == 7 and improvements == sorted(improvements, reverse=True)
    assert learner.pending_points == set()
    assert learner.data == before
    # One point: what ask(1) takes. More: the best triangles' points as they
    # are now (ask(7) splits each triangle before choosing the next).
    assert learner.ask(1, tell_pending=False) == learner.ask(1, tell_pending=False)
    first, _ = learner.ask(1, tell_pending=False)
    taken, _ = learner.ask(7)
    assert taken[0] == first[0] == looked[0]
    assert learner.pending_points == set(taken)


def test_loss_with_pending_points() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 100)
    real = learner.loss()
    learner.ask(10)
    assert learner.loss() == real
    assert learner.loss(real=False) < real


def test_members_mirror_adaptive() -> None:
    learner = Learner2D(f_ring, [(0, 2), (-1, 3)])
    assert learner.bounds == ((0.0, 2.0), (-1.0, 3.0))
    assert learner.ndim == 2 and learner.vdim == 1 and learner.stack_size == 10
    assert learner.aspect_ratio == 1
    np.testing.assert_array_equal(learner.xy_mean, [1, 1])
    np.testing.assert_array_equal(learner.xy_scale, [2, 4])
    learner.aspect_ratio = 2
    np.testing.assert_array_equal(learner.xy_scale, [2, 2])
    assert learner.inside_bounds((2, 3)) and not learner.inside_bounds((2.1, 0))
    assert learner.loss_per_triangle is losses.default_loss
    run_sequentially(learner, 30)
    assert learner.npoints == len(learner.data) == 30
    learner.function = f_pair
    assert learner.function is f_pair
    fresh = learner.new()
    assert fresh.npoints == 0 and fresh.bounds == learner.bounds and fresh.function is f_pair
    copy = learner.new()
    copy.copy_from(learner)
    assert copy.data == learner.data


def test_scaling_is_adaptives() -> None:
    adaptive = pytest.importorskip("adaptive")
    for ratio in (1, 2, 0.25):
        ours = Learner2D(f_ring, [(0, 2), (-1, 3)])
        theirs = adaptive.Learner2D(f_ring, [(0, 2), (-1, 3)])
        ours.aspect_ratio = theirs.aspect_ratio = ratio
        np.testing.assert_array_equal(theirs.xy_scale, ours.xy_scale)
        np.testing.assert_array_equal(theirs.xy_mean, ours.xy_mean)
        np.testing.assert_array_equal(theirs._scale([(0.5, 2.0)]), ours._scale([(0.5, 2.0)]))


def test_changing_the_aspect_ratio_keeps_the_data() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 100)
    learner.ask(3)
    pending = learner.pending_points
    learner.aspect_ratio = 3
    assert learner.npoints == 100 and learner.pending_points == pending
    run_sequentially(learner, 100)
    assert learner.npoints == 200
    with pytest.raises(ValueError, match="aspect_ratio"):
        learner.aspect_ratio = 0


def test_vector_outputs() -> None:
    pytest.importorskip("scipy")
    learner = Learner2D(f_pair, BOUNDS)
    run_sequentially(learner, 200)
    assert learner.vdim == 2
    assert all(isinstance(v, np.ndarray) and v.shape == (2,) for v in learner.data.values())
    assert math.isfinite(learner.loss())
    table = learner.to_numpy()
    assert table.shape == (200, 4)
    x, y, z = learner.interpolated_on_grid(20)
    assert x.shape == y.shape == (20,) and z.shape == (20, 20, 2)
    ip = learner.interpolator()
    assert ip.values.shape == (200, 2)


def test_to_numpy_is_sorted_data() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 50)
    table = learner.to_numpy()
    assert table.shape == (50, 3)
    expected = np.array([(x, y, z) for (x, y), z in sorted(learner.data.items())])
    np.testing.assert_array_equal(table, expected)
    assert Learner2D(f_ring, BOUNDS).to_numpy().shape == (0, 3)


def plane(xy):
    return 2 * xy[0] - 3 * xy[1] + 1


def test_interpolated_on_grid() -> None:
    learner = Learner2D(plane, [(0, 1), (-2, 2)])
    run_sequentially(learner, 60)
    xs, ys, zs = learner.interpolated_on_grid(31)
    assert xs.shape == ys.shape == (31,) and zs.shape == (31, 31)
    assert xs[0] == pytest.approx(0) and xs[-1] == pytest.approx(1)
    assert ys[0] == pytest.approx(-2) and ys[-1] == pytest.approx(2)
    np.testing.assert_allclose(zs, 2 * xs[:, None] - 3 * ys[None, :] + 1, atol=1e-9)
    # Without n: as fine as the smallest triangle, at least 10.
    _, _, automatic = learner.interpolated_on_grid()
    assert automatic.shape[0] >= 10


def test_interpolated_on_grid_is_adaptives() -> None:
    adaptive = pytest.importorskip("adaptive")
    learner = Learner2D(plane, [(0, 1), (-2, 2)])
    run_sequentially(learner, 60)
    xs, ys, zs = learner.interpolated_on_grid(31)
    _, _, automatic = learner.interpolated_on_grid()
    theirs = adaptive.Learner2D(plane, [(0, 1), (-2, 2)])
    theirs.tell_many(list(learner.data), list(learner.data.values()))
    txs, tys, tzs = theirs.interpolated_on_grid(31)
    np.testing.assert_allclose(xs, txs, rtol=1e-15)
    np.testing.assert_allclose(ys, tys, rtol=1e-15)
    np.testing.assert_allclose(zs, tzs, atol=1e-9)
    assert automatic.shape == theirs.interpolated_on_grid()[2].shape


def test_interpolators_are_scipys_over_the_data() -> None:
    pytest.importorskip("scipy")
    learner = Learner2D(f_ring, [(0, 2), (0, 1)])
    run_sequentially(learner, 100)
    ip = learner.interpolator()
    point = next(iter(learner.data))
    assert ip(*point) == pytest.approx(learner.data[point])
    scaled = learner.interpolator(scaled=True)
    assert np.all(np.abs(scaled.tri.points) <= 0.5 + 1e-12)
    assert learner.interpolator(scaled=True) is scaled  # cached until the data change
    with pytest.warns(DeprecationWarning):
        assert learner.ip() is scaled
    run_sequentially(learner, 1)
    assert learner.interpolator(scaled=True) is not scaled


def test_tell_many_matches_telling_one_by_one() -> None:
    source = Learner2D(f_ring, BOUNDS)
    run_sequentially(source, 300)
    points = np.array(list(source.data))
    values = np.array(list(source.data.values()))
    bulk, single = Learner2D(f_ring, BOUNDS), Learner2D(f_ring, BOUNDS)
    bulk.tell_many(points, values)
    for p, v in zip(points, values):
        single.tell(tuple(p), v)
    assert bulk.data == single.data == source.data
    # The losses differ a little: the bulk computes all of them at the final
    # value scale, one by one they follow the scale as it grows (by 10% steps).
    assert bulk.loss() == pytest.approx(single.loss(), rel=0.2)
    bulk.tell_many(points[:10] + 0.001, values[:10])  # into a learner with data: one by one
    assert bulk.npoints == 310
    run_sequentially(bulk, 50)


def test_telling_a_point_again_replaces_its_value() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 20)
    point = next(iter(learner.data))
    learner.tell(point, 42.0)
    assert learner.data[point] == 42.0 and learner.npoints == 20
    assert 42.0 in learner.to_numpy()[:, 2]


def test_nan_values_do_not_stop_learning() -> None:
    def holes(xy):
        return math.nan if xy[0] > 0.5 else f_ring(xy)

    learner = Learner2D(holes, BOUNDS)
    run_sequentially(learner, 300)
    assert learner.npoints == 300
    assert any(math.isnan(v) for v in learner.data.values())
    assert math.isfinite(learner.loss())


def test_points_outside_the_bounds_are_kept_but_not_learned() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 50)
    loss = learner.loss()
    learner.tell((2.0, 0.0), 1.0)
    learner.tell_pending((3.0, 0.0))
    assert learner.data[(2.0, 0.0)] == 1.0 and learner.npoints == 51
    assert (3.0, 0.0) not in learner.pending_points
    assert learner.loss() == loss
    assert learner.to_numpy().shape == (51, 3)
    points, values = learner._data_in_bounds()
    assert len(points) == len(values) == 50


def test_points_outside_the_bounds_are_kept_as_adaptive_keeps_them() -> None:
    adaptive = pytest.importorskip("adaptive")
    ours, theirs = Learner2D(f_ring, BOUNDS), adaptive.Learner2D(f_ring, BOUNDS)
    for learner in (ours, theirs):
        learner.tell((2.0, 0.0), 1.0)
        learner.tell_pending((3.0, 0.0))
    assert ours.data == theirs.data == {(2.0, 0.0): 1.0}
    assert ours.pending_points == theirs.pending_points == set()
    assert ours.npoints == theirs.npoints == 1


# --- pickling and files ------------------------------------------------------------------


def test_pickle_round_trip_asks_the_same_points() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 150)
    learner.ask(4)  # pending points travel too
    learner.aspect_ratio = 1.5
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.data == learner.data
    assert copy.pending_points == learner.pending_points
    assert copy.aspect_ratio == 1.5
    assert copy.loss() == learner.loss()
    assert asks(copy, 100) == asks(learner, 100)


def test_pickle_keeps_a_lambda_function_and_vector_outputs() -> None:
    learner = Learner2D(lambda xy: np.array([xy[0], xy[1] ** 2]), BOUNDS)
    run_sequentially(learner, 40)
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.function((0.5, 2.0)).tolist() == [0.5, 4.0]
    assert copy.vdim == 2
    assert asks(copy, 30) == asks(learner, 30)


def test_save_and_load(tmp_path) -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 100)
    fname = tmp_path / "deep" / "learner.pickle"
    learner.save(str(fname))
    loaded = learner.new()
    loaded.load(str(fname))
    assert loaded.data == learner.data
    assert loaded.loss() == pytest.approx(learner.loss(), rel=0.2)  # see test_tell_many_...
    missing = learner.new()
    missing.load(str(tmp_path / "nothing-here"))
    assert missing.npoints == 0


def test_files_interoperate_with_python_adaptive(tmp_path) -> None:
    adaptive = pytest.importorskip("adaptive")
    theirs = adaptive.Learner2D(f_ring, bounds=BOUNDS)
    run_sequentially(theirs, 80)
    theirs.save(str(tmp_path / "theirs.pickle"))
    ours = Learner2D(f_ring, BOUNDS)
    ours.load(str(tmp_path / "theirs.pickle"))
    assert ours.data == theirs.data and ours.bounds_are_done
    run_sequentially(ours, 20)
    ours.save(str(tmp_path / "ours.pickle"))
    back = adaptive.Learner2D(f_ring, bounds=BOUNDS)
    back.load(str(tmp_path / "ours.pickle"))
    assert back.data == ours.data
    assert math.isfinite(back.loss())


def test_dataframe_round_trip() -> None:
    pytest.importorskip("pandas")

    def g(xy, scale=2.0):
        return scale * f_ring(xy)

    learner = Learner2D(g, BOUNDS)
    run_sequentially(learner, 60)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "z", "function.scale"]
    assert df.attrs == {"inputs": ["x", "y"], "output": "z"}
    assert list(df["x"]) == sorted(df["x"])
    other = Learner2D(g, BOUNDS)
    other.load_dataframe(df)
    assert other.data == learner.data
    named = learner.to_dataframe(with_default_function_args=False, x_name="a", y_name="b", z_name="c")
    assert list(named.columns) == ["a", "b", "c"]


def test_dataframe_is_adaptives() -> None:
    pytest.importorskip("pandas")
    adaptive = pytest.importorskip("adaptive")

    def g(xy, scale=2.0):
        return scale * f_ring(xy)

    learner = Learner2D(g, BOUNDS)
    run_sequentially(learner, 60)
    df = learner.to_dataframe()
    theirs = adaptive.Learner2D(g, BOUNDS)
    theirs.tell_many(list(learner.data), list(learner.data.values()))
    assert theirs.to_dataframe().equals(df)


def test_plot_draws_with_matplotlib() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    learner = Learner2D(f_ring, BOUNDS)
    empty = learner.plot()
    assert empty.get_xlim() == (-1, 1)
    run_sequentially(learner, 100)
    ax = learner.plot(n=40, tri_alpha=0.5)
    assert ax.get_images() and ax.get_images()[0].get_array().shape == (40, 40)
    vector = Learner2D(f_pair, BOUNDS)
    run_sequentially(vector, 50)
    axes = vector.plot()
    assert len(axes) == 2


def test_plot_without_matplotlib_names_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="matplotlib"):
        Learner2D(f_ring, BOUNDS).plot()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bounds",
    [[(1, -1), (-1, 1)], [(-1, 1), (0, 0)], [(-1, 1)], [(-1, 1), (-1, 1), (0, 1)], [(-1, 1), (0, math.inf)],
     [(-1, 1), (0, math.nan)], [(-1, 1, 2), (0, 1)]],
)
def test_bad_bounds(bounds) -> None:
    with pytest.raises(ValueError, match="bounds"):
        Learner2D(f_ring, bounds)


def test_bad_input_raises_and_the_learner_stays_usable() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 30)
    before = dict(learner.data)
    cases = [
        (lambda: learner.tell((0.1, math.nan), 1.0), ValueError, "NaN"),
        (lambda: learner.tell((0.1, 0.2, 0.3), 1.0), ValueError, "2 coordinates"),
        (lambda: learner.tell(0.1, 1.0), ValueError, "sequence"),
        (lambda: learner.tell((0.1, 0.2), [1.0, 2.0]), ValueError, "vector"),
        (lambda: learner.tell((0.1, 0.2), "high"), TypeError, "number"),
        (lambda: learner.tell((0.1, 0.2), None), TypeError, "None"),
        (lambda: learner.tell_many([(0.1, 0.2)], [1.0, 2.0]), ValueError, "1 points but 2 values"),
        (lambda: learner.tell_many([(0.1, 0.2)], [[1.0, 2.0]]), ValueError, "vector"),
        (lambda: learner.tell_many([(0.1, math.nan)], [1.0]), ValueError, "NaN"),
        (lambda: learner.tell_many([0.1, 0.2], [1.0, 2.0]), ValueError, r"\(n, 2\)"),
        (lambda: learner.tell_pending((math.nan, 0.0)), ValueError, "NaN"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    assert learner.data == before
    run_sequentially(learner, 30)
    assert learner.npoints == 60
    vector = Learner2D(f_pair, BOUNDS)
    run_sequentially(vector, 10)
    with pytest.raises(ValueError, match="scalar"):
        vector.tell((0.3, 0.3), 1.0)
    with pytest.raises(ValueError, match="3 components, expected 2"):
        vector.tell((0.3, 0.3), [1.0, 2.0, 3.0])
    run_sequentially(vector, 10)
    assert vector.npoints == 20


def test_loading_a_state_of_another_learner_is_refused() -> None:
    learner = Learner2D(f_ring, BOUNDS)
    run_sequentially(learner, 10)
    state = learner._state()
    other = Learner2D(f_ring, [(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="bounds"):
        other._load_state(*state, {})
    with pytest.raises(ValueError):
        Learner2D(f_ring, BOUNDS)._load_state("{not json", 1, 1, 1.0, {})


# --- speed ---------------------------------------------------------------------------------


def test_sequential_ask_and_tell_are_fast() -> None:
    learner = Learner2D(lambda xy: 0.0, BOUNDS)
    start = time.perf_counter()
    for _ in range(10_000):
        points, _ = learner.ask(1)
        learner.tell(points[0], 0.0)
    rate = 10_000 / (time.perf_counter() - start)
    # About 100,000 points/s on an idle core; the bound leaves room for a busy machine.
    assert rate > 10_000, f"{rate:.0f} points/s"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isfinite(learner.loss())
