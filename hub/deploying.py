"""What a deployment from files on disk carries: the BPMN files, and the model files their agents name.

An agent whose model is ``rules:agent-rules.json`` or ``scripted:turns.json``
(literally, or as a string inside a FEEL expression) names a file relative to
its BPMN file. Deploying from disk (``agenthub deploy``, ``run``, ``serve
--examples``) takes each such file along as a resource of the deployment, so
the process finds it wherever the hub later runs and from any working
directory (``agenthub mcp`` started by a desktop assistant in its own folder).
A name that is no file beside the BPMN is left to be found at run time under
``AGENTHUB_MODEL_FILES``, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

__all__ = ["DeploymentFilesError", "read_deployment"]

# A model file named in an agent's model attribute: the kinds that read files, then a relative path.
_MODEL_FILE = re.compile(r"\b(?:scripted|rules):([A-Za-z0-9_][A-Za-z0-9_./-]*\.json)\b")
_AGENT_MODEL = re.compile(r"<[A-Za-z0-9_]+:agent\b[^>]*?\bmodel\s*=\s*(\"[^\"]*\"|'[^']*')", re.S)


class DeploymentFilesError(Exception):
    """A file cannot be read, or two models name different files by one name."""


def model_file_names(bpmn: str) -> list[str]:
    """The relative model file names the agents of a BPMN document name, in order, once each."""
    names: list[str] = []
    for attribute in _AGENT_MODEL.finditer(bpmn):
        text = attribute.group(1).replace("&quot;", '"').replace("&apos;", "'")
        for found in _MODEL_FILE.finditer(text):
            name = found.group(1)
            if ".." not in PurePosixPath(name).parts and name not in names:
                names.append(name)
    return names


def read_deployment(paths: Sequence[Path], *, by_file_name: bool = False) -> list[tuple[str, bytes]]:
    """The resources to deploy for ``paths``: each file, plus the model files its agents name beside it.

    Each BPMN resource is named by its path as given, or with ``by_file_name`` by its file name alone; a ``.dmn``
    or ``.form`` file always by its file name.
    """
    resources: list[tuple[str, bytes]] = []
    files: dict[str, tuple[Path, bytes]] = {}
    for path in paths:
        data = _read(path)
        # A .dmn or .form file is a deployment resource, whose name must be relative: its file name.
        by_name = by_file_name or path.suffix.lower() in (".dmn", ".form")
        resources.append((path.name if by_name else str(path), data))
        for name in model_file_names(data.decode("utf-8", errors="replace")):
            beside = path.parent / name
            if not beside.is_file():
                continue  # found at run time under AGENTHUB_MODEL_FILES, or reported by the model step
            content = _read(beside)
            known = files.get(name)
            if known is not None and known[1] != content:
                raise DeploymentFilesError(
                    f"model file '{name}' is named by two models but differs: '{known[0]}' and '{beside}'; "
                    "deploy them separately or give the files different names"
                )
            files[name] = (beside, content)
    resources.extend((name, content) for name, (_, content) in files.items())
    return resources


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeploymentFilesError(f"cannot read '{path}': {exc.strerror}") from None
