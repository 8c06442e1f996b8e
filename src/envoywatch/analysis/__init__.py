"""Analyses: functions that build Ibis expressions over the store's tables, registered by name.

An analysis never executes itself: the caller (CLI, report, web, notebook) runs the expression on the
backend it holds (DuckDB by default, Spark at scale). See DESIGN.md, "Adding an analysis".
"""

from __future__ import annotations

from typing import Callable

ANALYSES: dict[str, Callable] = {}


def analysis(name: str):
    """Register an analysis function under a name the CLI, report and web pages use."""

    def deco(fn):
        if name in ANALYSES:
            raise ValueError(f"analysis {name} registered twice")
        ANALYSES[name] = fn
        fn.analysis_name = name
        return fn

    return deco
