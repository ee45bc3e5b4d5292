"""DataSaver: a learner whose function returns more than the learner learns.

A drop-in for python-adaptive 1.5's ``DataSaver`` and ``make_datasaver``:
the wrapped learner is told ``arg_picker(result)`` and every full result is
kept in ``extra_data``, keyed by the point.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any, Callable, Iterable, Sequence

import cloudpickle

from .._optional import require_pandas
from .base_learner import load_file, save_file

__all__ = ["DataSaver", "make_datasaver"]


def _is_sequence_learner(learner: Any) -> bool:
    # Imported here: sequence_learner does not import this module, but the
    # learner package may import both in either order.
    from .sequence_learner import SequenceLearner

    return isinstance(learner, SequenceLearner)


def _row_key(row: tuple) -> Any:
    """The extra_data key of a DataFrame row of input values: the value itself for one input, a tuple for several."""
    return row[0] if len(row) == 1 else tuple(row)


class DataSaver:
    """Wraps ``learner``; keeps each full result while the learner learns ``arg_picker(result)``.

    Parameters
    ----------
    learner : learner
        The learner to wrap; its ``function`` returns full results.
    arg_picker : callable
        ``arg_picker(result)`` is the value the learner learns.

    Every attribute the DataSaver itself lacks is the wrapped learner's
    (``data``, ``npoints``, ``pending_points``, ``plot``, ...).

    Example::

        from operator import itemgetter

        def f(x):
            return {"y": x**2, "error": 1e-3}

        learner = DataSaver(Learner1D(f, bounds=(-1, 1)), arg_picker=itemgetter("y"))
        # learner.extra_data[x] is f(x); learner.data[x] is f(x)["y"]

    Differences from python-adaptive, by design: loading (``load``,
    ``copy_from``, ``_set_data``) adds to ``extra_data`` instead of replacing
    the dict (python-adaptive's ``copy_from`` made two DataSavers share
    one); ``load_dataframe`` updates ``function`` to the wrapped learner's,
    which may have gained default arguments from the DataFrame; a value the
    wrapped learner rejects (its ``tell`` raises) leaves no extra data; a
    wrapped SequenceLearner works with the DataFrame methods.
    """

    def __init__(self, learner: Any, arg_picker: Callable[[Any], Any]) -> None:
        if not callable(arg_picker):
            raise TypeError(f"arg_picker must be callable, got {type(arg_picker).__name__}")
        self.learner = learner
        self.extra_data: OrderedDict[Any, Any] = OrderedDict()
        self.function: Callable[..., Any] = learner.function
        self.arg_picker = arg_picker

    def new(self) -> "DataSaver":
        """A DataSaver around ``learner.new()`` with the same ``arg_picker`` and no data."""
        return DataSaver(self.learner.new(), self.arg_picker)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the DataSaver lacks. Special names are not
        # forwarded: copy.deepcopy looks up __deepcopy__ on the instance and
        # would otherwise copy the wrapped learner instead of the DataSaver;
        # "learner" itself is missing only while unpickling.
        if name == "learner" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self.learner, name)

    # --- the learner interface ---------------------------------------------

    def ask(self, n: int, tell_pending: bool = True) -> tuple[list[Any], list[float]]:
        """The wrapped learner's ``ask``."""
        return self.learner.ask(n, tell_pending=tell_pending)

    def loss(self, real: bool = True) -> float:
        """The wrapped learner's ``loss``."""
        return self.learner.loss(real)

    def remove_unfinished(self) -> None:
        """The wrapped learner's ``remove_unfinished``."""
        self.learner.remove_unfinished()

    def tell(self, x: Any, result: Any) -> None:
        """Tells the learner ``arg_picker(result)`` at ``x`` and keeps ``result`` in ``extra_data[x]``.

        A later result for the same ``x`` replaces the kept one (the learner
        may keep its first value, as Learner1D does).
        """
        y = self.arg_picker(result)
        self.learner.tell(x, y)
        self.extra_data[x] = result

    def tell_many(self, xs: Iterable[Any], results: Iterable[Any]) -> None:
        """``tell`` for each pair, in order."""
        xs = list(xs)
        results = list(results)
        if len(xs) != len(results):
            raise ValueError(f"tell_many: {len(xs)} points but {len(results)} results")
        for x, result in zip(xs, results):
            self.tell(x, result)

    def tell_pending(self, x: Any) -> None:
        """The wrapped learner's ``tell_pending``."""
        self.learner.tell_pending(x)

    # --- saving ----------------------------------------------------------------

    def _get_data(self) -> tuple[Any, OrderedDict[Any, Any]]:
        return self.learner._get_data(), self.extra_data

    def _set_data(self, data: tuple[Any, Any]) -> None:
        learner_data, extra_data = data
        self.learner._set_data(learner_data)
        self.extra_data.update(extra_data)

    def copy_from(self, other: Any) -> None:
        """Tells this DataSaver everything ``other`` learned, extra data included."""
        self._set_data(other._get_data())

    def save(self, fname: str, compress: bool = True) -> None:
        """Saves the learner's data and ``extra_data`` to ``fname`` (python-adaptive's format: gzip'd cloudpickle)."""
        save_file(fname, self._get_data(), compress)

    def load(self, fname: str, compress: bool = True) -> None:
        """Loads what :meth:`save` wrote; a missing or empty file is ignored, as in python-adaptive."""
        try:
            data = load_file(fname, compress)
        except (FileNotFoundError, EOFError):
            return
        self._set_data(data)

    def __getstate__(self) -> tuple:
        # cloudpickle lets a lambda arg_picker travel through plain pickle.
        return (self.learner, cloudpickle.dumps(self.arg_picker), self.extra_data)

    def __setstate__(self, state: tuple) -> None:
        learner, arg_picker, extra_data = state
        if isinstance(arg_picker, bytes):
            arg_picker = cloudpickle.loads(arg_picker)
        self.__init__(learner, arg_picker)  # type: ignore[misc]
        self.extra_data = extra_data

    # --- dataframes --------------------------------------------------------------

    def to_dataframe(
        self,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        extra_data_name: str = "extra_data",
        **kwargs: Any,
    ) -> Any:
        """The wrapped learner's DataFrame plus a column ``extra_data_name`` of full results.

        ``kwargs`` go to the wrapped learner's ``to_dataframe``; rows are
        matched to results by the input columns ``df.attrs["inputs"]``.
        """
        require_pandas()
        df = self.learner.to_dataframe(
            with_default_function_args=with_default_function_args,
            function_prefix=function_prefix,
            **kwargs,
        )
        inputs = list(df.attrs.get("inputs", []))
        if not inputs:
            raise ValueError("the wrapped learner's DataFrame names no input columns (df.attrs['inputs'])")
        extra: Any = self.extra_data
        if _is_sequence_learner(self.learner):
            # A SequenceLearner's points are (index, element); its frame has the index.
            extra = {(k[0] if isinstance(k, tuple) else k): v for k, v in self.extra_data.items()}
        values = []
        for row in df[inputs].itertuples(index=False, name=None):
            key = _row_key(row)
            try:
                values.append(extra[key])
            except KeyError:
                raise KeyError(f"no extra data for the point {key!r}: was it told to the wrapped learner directly?") from None
        df[extra_data_name] = values
        return df

    def load_dataframe(
        self,
        df: Any,
        with_default_function_args: bool = True,
        function_prefix: str = "function.",
        extra_data_name: str = "extra_data",
        input_names: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        """Tells the wrapped learner the rows of ``df`` and keeps their full results.

        The input columns are ``df.attrs["inputs"]``; a DataFrame read back
        from a file has lost its ``attrs``, so give ``input_names`` then
        (``("x", "y")`` for a Learner2D).
        """
        require_pandas()
        self.learner.load_dataframe(
            df,
            with_default_function_args=with_default_function_args,
            function_prefix=function_prefix,
            **kwargs,
        )
        self.function = self.learner.function
        inputs = list(df.attrs.get("inputs", list(input_names)))
        if not inputs:
            raise ValueError(
                "the DataFrame names no input columns (df.attrs['inputs']); pass input_names, e.g. ('x',)"
            )
        sequence = self.learner.sequence if _is_sequence_learner(self.learner) else None
        rows = df[[*inputs, extra_data_name]].itertuples(index=False, name=None)
        for row in rows:
            key = _row_key(row[:-1])
            if sequence is not None:
                key = (int(key), sequence[int(key)])
            self.extra_data[key] = row[-1]

    def __repr__(self) -> str:
        return f"<DataSaver of {self.learner!r}, {len(self.extra_data)} results>"


def _make_data_saver(
    learner_type: Callable[..., Any], arg_picker: Callable[[Any], Any], *args: Any, **kwargs: Any
) -> DataSaver:
    return DataSaver(learner_type(*args, **kwargs), arg_picker)


def make_datasaver(learner_type: Callable[..., Any], arg_picker: Callable[[Any], Any]) -> Callable[..., DataSaver]:
    """A constructor of DataSavers around ``learner_type`` learners.

    ``make_datasaver(Learner1D, itemgetter("y"))(function=f, bounds=(-1, 1))``
    is ``DataSaver(Learner1D(function=f, bounds=(-1, 1)), itemgetter("y"))``;
    it can be ``BalancingLearner.from_product``'s ``learner_type``. The
    constructor is a picklable ``functools.partial``. (python-adaptive's
    drops positional arguments; these are passed on.)
    """
    return functools.partial(_make_data_saver, learner_type, arg_picker)
