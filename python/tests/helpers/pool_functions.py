"""Functions importable by the worker processes of a ProcessPoolExecutor (which pickles by reference)."""

import math


def exp_except_at_zero(x: float) -> float:
    if x == 0.0:
        raise ValueError("zero")
    return math.exp(x)
