"""Layout benchmark: a diagram drawn for a model of N flow nodes with none (the console, the Modeler's import).

Usage:
  .venv/bin/python bench/layout.py [--nodes 1000] [--runs 9]

The model is a chain of tasks with a gateway every tenth node, each with a loop back and a branch around
(``tests.models.chain_with_loops``, the shape tests/hub/web/test_layout.py checks is drawn right). Printed: the
median and the slowest of ``--runs`` layouts, in CPU seconds (the machine is shared) and wall seconds. The
target is under a second for 1,000 nodes.
The script never fails because of a number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.parser.layout import layout  # noqa: E402
from tests.models import chain_with_loops  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    xml = chain_with_loops(args.nodes)
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(args.runs):
        began_cpu, began = time.process_time(), time.perf_counter()
        layout(xml)
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    print(f"layout of {args.nodes:,} nodes, {args.runs} runs: CPU median {statistics.median(cpu):.3f} s "
          f"(slowest {max(cpu):.3f} s), wall median {statistics.median(wall):.3f} s; target under 1 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
