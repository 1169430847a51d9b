"""The ``agenthub`` console script: start-up kept short, then ``hub.cli``.

A CLI command is a short process, and most of its start-up is importing the
engine, SQLAlchemy and the CLI framework: about a thousand modules whose
objects are never cyclic garbage. Python's collector would walk them several
times while they load; it is off for the imports and back on before the
command runs (a long ``serve`` or ``worker`` collects as usual).
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from hub.cli import main as run
    finally:
        gc.enable()
    run()
