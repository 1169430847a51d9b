"""Serving a folder of examples: ``agenthub serve --examples examples/``.

Each sub-folder may hold BPMN files and a ``workers.py`` of ``@worker``
handlers. The workers are loaded before the hub starts its worker loop and
the processes are deployed exposed, so they are REST processes, MCP tools and
(with A2A) agent skills at once.
"""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from hub.deploying import read_deployment
from hub.loading import load_workers


def example_folders(root: Path) -> list[Path]:
    folders = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    return [f for f in folders if any(f.glob("*.bpmn")) or (f / "workers.py").exists()]


def load_example_workers(root: Path) -> list[str]:
    loaded = []
    for folder in example_folders(root):
        if (folder / "workers.py").exists():
            load_workers(str(folder / "workers.py"))
            loaded.append(str(folder / "workers.py"))
    return loaded


def deploy_examples(engine: Engine, root: Path) -> list[str]:
    lines = []
    for folder in example_folders(root):
        paths = sorted(folder.glob("*.bpmn"))
        if not paths:
            continue
        resources = read_deployment(paths, by_file_name=True)  # with the model files the agents name beside them
        for deployed in engine.deploy(resources, name=f"examples/{folder.name}", expose=True):
            lines.append(f"example {deployed.process_id} version {deployed.version} deployed and exposed")
    return lines
