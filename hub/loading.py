"""Loading a module of ``@worker`` handlers from a dotted name or a ``.py`` path."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


class WorkerModuleError(Exception):
    pass


def load_workers(spec: str) -> ModuleType:
    """Import ``spec``: a path to a .py file, or a module name importable from the current directory."""
    if spec.endswith(".py") or "/" in spec or Path(spec).is_file():
        path = Path(spec)
        if not path.is_file():
            raise WorkerModuleError(f"workers file '{spec}' does not exist")
        name = f"agenthub_workers_{path.stem}_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise WorkerModuleError(f"cannot load workers from '{spec}'")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise WorkerModuleError(f"importing workers file '{spec}' failed: {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        raise WorkerModuleError(
            f"workers module '{spec}' not found ({exc}); give a dotted module name "
            "importable from the current directory or a path to a .py file"
        ) from exc
    except Exception as exc:
        raise WorkerModuleError(f"importing workers module '{spec}' failed: {type(exc).__name__}: {exc}") from exc
