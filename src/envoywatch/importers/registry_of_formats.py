"""Imports every module that registers archive formats: each platform's formats.py and the generic importers.

Adding a platform package with a formats.py is enough for `envoywatch import` to know its formats.
"""

from __future__ import annotations

import importlib
import pkgutil

import envoywatch.importers as _importers
import envoywatch.platforms as _platforms

_NOT_FORMATS = {"base", "run", "registry_of_formats"}

for _mod in pkgutil.iter_modules(_importers.__path__):
    if _mod.name not in _NOT_FORMATS:
        importlib.import_module(f"envoywatch.importers.{_mod.name}")

for _mod in pkgutil.iter_modules(_platforms.__path__):
    if _mod.ispkg:
        try:
            importlib.import_module(f"envoywatch.platforms.{_mod.name}.formats")
        except ModuleNotFoundError as exc:
            if exc.name != f"envoywatch.platforms.{_mod.name}.formats":
                raise
