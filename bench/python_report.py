"""The figure printer of the Python benchmark programs (bench/python_*.py):
readable lines, or with --json one JSON object per figure, with the keys of
bench/report.hpp (name, value, unit, target, passed, quick, parameters)."""

from __future__ import annotations

import json
from typing import Any


class Report:
    """Prints figures as readable lines or, with --json, one JSON object each."""

    def __init__(self, as_json: bool, quick: bool) -> None:
        self.as_json, self.quick, self.missed = as_json, quick, []

    def figure(self, name: str, value: float, unit: str, target: float | None = None,
               lower_is_better: bool = False, note: str = "", **parameters: Any) -> None:
        passed = target is None or (value <= target if lower_is_better else value >= target)
        if not passed:
            self.missed.append(name)
        if self.as_json:
            print(json.dumps({"name": name, "value": value, "unit": unit, "target": target,
                              "passed": passed, "quick": self.quick, **parameters}), flush=True)
            return
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
        goal = ""
        if target is not None:
            goal = f"  (target {'<=' if lower_is_better else '>='} {target:g}: {'met' if passed else 'MISSED'})"
        print(f"{name:<34} {shown:>12} {unit:<10}{goal}  {note}".rstrip(), flush=True)
