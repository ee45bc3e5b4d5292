"""The function's default arguments as DataFrame columns, and back.

Same convention as python-adaptive: parameters after the first that have a
default become columns named ``function_prefix + name``; loading a frame
binds them again with functools.partial.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable


def default_arguments(function: Callable[..., Any], prefix: str) -> dict[str, Any]:
    """The defaults of ``function``'s parameters after the first, keyed by prefixed name."""
    try:
        parameters = list(inspect.signature(function).parameters.items())
    except (TypeError, ValueError):
        return {}
    return {
        f"{prefix}{name}": p.default
        for i, (name, p) in enumerate(parameters)
        if i >= 1 and p.default is not inspect.Parameter.empty
    }


def assign_defaults(function: Callable[..., Any], df: Any, prefix: str) -> None:
    """Adds one constant column per default argument of ``function``."""
    for column, value in default_arguments(function, prefix).items():
        df[column] = len(df) * [value]


def partial_from_dataframe(function: Callable[..., Any], df: Any, prefix: str) -> Callable[..., Any]:
    """``function`` with the default-argument columns of ``df`` bound to it."""
    if prefix == "":
        raise ValueError("function_prefix cannot be empty: it tells function columns from data columns")
    arguments: dict[str, Any] = {}
    for column in df.columns:
        if not str(column).startswith(prefix):
            continue
        name = str(column)[len(prefix):]
        values = df[column].unique()
        if len(values) != 1:
            raise ValueError(f"the column '{column}' must hold one value, it holds {len(values)}")
        arguments[name] = values[0]
    if not arguments:
        return function
    parameters = inspect.signature(function).parameters
    for name, value in arguments.items():
        if name not in parameters:
            raise ValueError(
                f"the DataFrame holds the argument {name}={value!r} but the function has no such parameter"
            )
        default = parameters[name].default
        if default is not inspect.Parameter.empty and default != value:
            warnings.warn(
                f"the DataFrame sets {name}={value!r} but the function's default is {default!r}; "
                "the DataFrame's value is used",
                stacklevel=3,
            )
    return functools.partial(function, **arguments)
