"""Optional dependencies, imported only when a feature needs them."""

from __future__ import annotations

from types import ModuleType


def require_matplotlib() -> ModuleType:
    """matplotlib.pyplot, or an ImportError that names the missing package."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "plot() needs matplotlib, which is not installed "
            "(Debian: apt-get install python3-matplotlib)"
        ) from error
    return plt


def require_pandas() -> ModuleType:
    """pandas, or an ImportError that names the missing package."""
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            "to_dataframe()/load_dataframe() need pandas, which is not installed "
            "(Debian: apt-get install python3-pandas)"
        ) from error
    return pandas
