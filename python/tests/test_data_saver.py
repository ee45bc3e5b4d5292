"""DataSaver and make_datasaver: python-adaptive's API, checked member by member."""

from __future__ import annotations

import copy
import math
import operator
import pickle
from collections import OrderedDict

import cloudpickle
import pytest

from taskmaster.learner.balancing_learner import BalancingLearner
from taskmaster.learner.data_saver import DataSaver, make_datasaver
from taskmaster.learner.learner1D import Learner1D
from taskmaster.learner.sequence_learner import SequenceLearner


def measured(x: float) -> dict:
    return {"y": math.sin(3 * x), "error": abs(x) / 10, "x": x}


def measured_with_default(x: float, scale: float = 2.0) -> dict:
    return {"y": scale * x, "scale": scale}


pick_y = operator.itemgetter("y")


def saver() -> DataSaver:
    return DataSaver(Learner1D(measured, bounds=(-1, 1)), arg_picker=pick_y)


def run(learner, npoints: int) -> None:
    while learner.npoints < npoints:
        points, _ = learner.ask(2)
        for x in points:
            learner.tell(x, learner.function(x))


@pytest.fixture
def adaptive():
    return pytest.importorskip("adaptive")


def test_tell_keeps_the_full_result_and_teaches_the_picked_value():
    learner = saver()
    assert learner.function is learner.learner.function
    learner.tell(0.5, measured(0.5))
    assert learner.extra_data == OrderedDict({0.5: measured(0.5)})
    assert learner.learner.data == {0.5: math.sin(1.5)}
    # A second result for the same point replaces the kept one.
    learner.tell(0.5, {"y": 7.0, "error": 0})
    assert learner.extra_data[0.5] == {"y": 7.0, "error": 0}


def test_attributes_are_the_wrapped_learners():
    learner = saver()
    run(learner, 20)
    assert learner.data == learner.learner.data
    assert learner.npoints == 20
    assert learner.bounds == (-1.0, 1.0)
    assert learner.pending_points == learner.learner.pending_points
    assert list(learner.extra_data) == list(learner.learner.data)  # told in this order
    assert all(learner.extra_data[x] == measured(x) for x in learner.data)
    with pytest.raises(AttributeError):
        learner.no_such_attribute


def test_ask_loss_pending_and_remove_unfinished_are_forwarded():
    learner = saver()
    twin = Learner1D(measured, bounds=(-1, 1))
    run(learner, 10)
    twin.tell_many(list(learner.data), list(learner.data.values()))
    assert learner.ask(3, tell_pending=False) == twin.ask(3, tell_pending=False)
    assert learner.pending_points == set()
    points, _ = learner.ask(3)
    assert learner.pending_points == set(points)
    assert learner.loss() == learner.learner.loss() and learner.loss(real=False) == learner.learner.loss(False)
    learner.remove_unfinished()
    assert learner.pending_points == set()
    learner.tell_pending(0.123)
    assert learner.pending_points == {0.123}


def test_tell_many():
    learner = saver()
    xs = [-1.0, 0.0, 1.0]
    learner.tell_many(xs, [measured(x) for x in xs])
    assert learner.data == {x: math.sin(3 * x) for x in xs}
    assert list(learner.extra_data) == xs
    with pytest.raises(ValueError, match="2 points but 1 results"):
        learner.tell_many([0.1, 0.2], [measured(0.1)])


def test_a_rejected_value_leaves_no_extra_data():
    learner = saver()
    with pytest.raises(KeyError):
        learner.tell(0.5, {"not y": 1})
    with pytest.raises((TypeError, ValueError)):
        learner.tell(0.5, {"y": "not a number"})
    assert learner.extra_data == {} and learner.npoints == 0


def test_bad_arg_picker():
    with pytest.raises(TypeError, match="arg_picker must be callable"):
        DataSaver(Learner1D(measured, (-1, 1)), "y")
    with pytest.raises(AttributeError):
        DataSaver(object(), pick_y)


def test_new():
    learner = saver()
    run(learner, 10)
    fresh = learner.new()
    assert isinstance(fresh, DataSaver)
    assert fresh.npoints == 0 and fresh.extra_data == {}
    assert fresh.arg_picker is learner.arg_picker
    assert fresh.bounds == learner.bounds and fresh.function is learner.function


def test_save_and_load(tmp_path):
    learner = saver()
    run(learner, 30)
    path = str(tmp_path / "sub" / "saver.pickle")
    learner.save(path)
    fresh = learner.new()
    fresh.load(path)
    assert fresh.data == learner.data and fresh.extra_data == learner.extra_data
    assert fresh.ask(4) == learner.ask(4)
    uncompressed = str(tmp_path / "plain.pickle")
    learner.save(uncompressed, compress=False)
    other = learner.new()
    other.load(uncompressed, compress=False)
    assert other.extra_data == learner.extra_data
    untouched = learner.new()
    untouched.load(str(tmp_path / "missing.pickle"))
    assert untouched.npoints == 0


def test_files_are_adaptives(adaptive, tmp_path):
    mine = saver()
    run(mine, 25)
    path = str(tmp_path / "mine.pickle")
    mine.save(path)
    theirs = adaptive.DataSaver(adaptive.Learner1D(measured, bounds=(-1, 1)), pick_y)
    theirs.load(path)
    assert theirs.data == mine.data and theirs.extra_data == mine.extra_data

    theirs = adaptive.DataSaver(adaptive.Learner1D(measured, bounds=(-1, 1)), pick_y)
    adaptive.runner.simple(theirs, npoints_goal=25)
    theirs.save(path)
    mine = saver()
    mine.load(path)
    assert mine.data == theirs.data and mine.extra_data == theirs.extra_data
    assert mine.ask(3) == theirs.ask(3)


def test_copy_from_adds_without_sharing():
    learner = saver()
    run(learner, 10)
    other = learner.new()
    other.tell(0.5, measured(0.5))
    other.copy_from(learner)
    assert other.data == {**learner.data, 0.5: math.sin(1.5)}
    assert 0.5 in other.extra_data and all(other.extra_data[x] == learner.extra_data[x] for x in learner.data)
    other.extra_data.clear()
    assert learner.extra_data  # not the same dict


@pytest.mark.parametrize("serializer", [pickle, cloudpickle])
def test_pickling(serializer):
    learner = DataSaver(Learner1D(measured, bounds=(-1, 1)), arg_picker=lambda r: r["y"])
    run(learner, 20)
    copy_ = serializer.loads(serializer.dumps(learner))
    assert isinstance(copy_, DataSaver)
    assert copy_.extra_data == learner.extra_data and copy_.data == learner.data
    assert copy_.loss() == learner.loss()
    assert copy_.ask(5) == learner.ask(5)
    copy_.tell(0.3, measured(0.3))
    assert copy_.data[0.3] == measured(0.3)["y"]


def test_copy_module_copies_the_saver_not_the_learner():
    learner = saver()
    run(learner, 6)
    for duplicate in (copy.copy(learner), copy.deepcopy(learner)):
        assert isinstance(duplicate, DataSaver)
        assert duplicate.extra_data == learner.extra_data


def test_dataframes():
    pytest.importorskip("pandas")
    learner = saver()
    run(learner, 20)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "extra_data"]
    assert len(df) == 20
    assert all(row.extra_data == measured(row.x) for row in df.itertuples())
    fresh = learner.new()
    fresh.load_dataframe(df)
    assert fresh.data == learner.data
    assert fresh.extra_data.keys() == learner.extra_data.keys()
    assert all(fresh.extra_data[x] == learner.extra_data[x] for x in learner.extra_data)

    named = learner.to_dataframe(extra_data_name="full", x_name="t")
    assert list(named.columns) == ["t", "y", "full"]
    named.attrs.clear()  # as after writing to a file and reading back
    other = learner.new()
    with pytest.raises(ValueError, match="input_names"):
        other.load_dataframe(named, extra_data_name="full", x_name="t")
    other = learner.new()
    other.load_dataframe(named, extra_data_name="full", x_name="t", input_names=("t",))
    # In the DataFrame's order (by x), not in the order told.
    assert list(other.extra_data) == sorted(learner.extra_data)
    assert dict(other.extra_data) == dict(learner.extra_data)


def test_empty_dataframe():
    pytest.importorskip("pandas")
    df = saver().to_dataframe()
    assert len(df) == 0 and list(df.columns) == ["x", "y", "extra_data"]


def test_dataframe_function_arguments():
    pytest.importorskip("pandas")
    learner = DataSaver(Learner1D(measured_with_default, (0, 1)), pick_y)
    run(learner, 6)
    df = learner.to_dataframe()
    assert list(df.columns) == ["x", "y", "function.scale", "extra_data"]
    df["function.scale"] = 3.0
    fresh = learner.new()
    with pytest.warns(UserWarning):
        fresh.load_dataframe(df)
    # The DataSaver evaluates what its learner now evaluates.
    assert fresh.function(0.5) == measured_with_default(0.5, scale=3.0)
    assert fresh.learner.function(0.5) == fresh.function(0.5)


def test_dataframe_as_adaptive(adaptive):
    pandas = pytest.importorskip("pandas")
    theirs = adaptive.DataSaver(adaptive.Learner1D(measured, bounds=(-1, 1)), pick_y)
    mine = saver()
    for learner in (theirs, mine):
        adaptive.runner.simple(learner, npoints_goal=15)
    pandas.testing.assert_frame_equal(theirs.to_dataframe(), mine.to_dataframe())
    loaded = saver()
    loaded.load_dataframe(theirs.to_dataframe())
    assert dict(loaded.extra_data) == dict(theirs.extra_data)


def test_with_a_sequence_learner():
    pytest.importorskip("pandas")
    learner = DataSaver(SequenceLearner(measured, [0.1, 0.2, 0.3, 0.4]), pick_y)
    points, _ = learner.ask(3)
    for p in points:
        learner.tell(p, learner.function(p))
    assert learner.extra_data == {(0, 0.1): measured(0.1), (1, 0.2): measured(0.2), (2, 0.3): measured(0.3)}
    assert not learner.done()
    df = learner.to_dataframe()
    assert list(df["extra_data"]) == [measured(0.1), measured(0.2), measured(0.3)]
    fresh = learner.new()
    fresh.load_dataframe(df)
    assert dict(fresh.extra_data) == dict(learner.extra_data)
    assert fresh.ask(5)[0] == [(3, 0.4)]


def test_make_datasaver():
    make = make_datasaver(Learner1D, arg_picker=pick_y)
    learner = make(function=measured, bounds=(-1, 1))
    assert isinstance(learner, DataSaver) and isinstance(learner.learner, Learner1D)
    assert learner.bounds == (-1.0, 1.0) and learner.arg_picker is pick_y
    positional = make(measured, (0, 2))
    assert positional.bounds == (0.0, 2.0)
    again = pickle.loads(pickle.dumps(make))
    assert isinstance(again(function=measured, bounds=(0, 1)), DataSaver)


def test_make_datasaver_in_from_product():
    def f(x, a):
        return {"y": a * x, "a": a}

    learner = BalancingLearner.from_product(
        f, make_datasaver(Learner1D, pick_y), {"bounds": (-1, 1)}, {"a": [1, 2, 3]}
    )
    assert all(isinstance(child, DataSaver) for child in learner.learners)
    while learner.npoints < 30:
        points, _ = learner.ask(3)
        for p in points:
            learner.tell(p, learner.function(p))
    for i, child in enumerate(learner.learners):
        assert child.npoints > 0
        assert all(child.extra_data[x] == {"y": (i + 1) * x, "a": i + 1} for x in child.data)


def test_learner2d():
    try:
        from taskmaster.learner.learner2D import Learner2D
    except ImportError as error:
        pytest.skip(f"Learner2D does not import: {error}")
    pytest.importorskip("pandas")

    def g(xy):
        x, y = xy
        return {"value": x * y, "sum": x + y}

    learner = DataSaver(Learner2D(g, bounds=[(-1, 1), (-1, 1)]), operator.itemgetter("value"))
    run(learner, 20)
    assert all(learner.extra_data[p] == g(p) for p in learner.data)
    df = learner.to_dataframe()
    fresh = learner.new()
    fresh.load_dataframe(df)
    assert dict(fresh.extra_data) == dict(learner.extra_data)
