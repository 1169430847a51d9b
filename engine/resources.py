"""The files a deployment carries beside its BPMN: which resource is which, and what a file may be.

A deployment is a set of named resources. BPMN models become process
definitions; every other resource (an agent's ``scripted:``/``rules:`` model
file today; forms and decisions later) is stored with the deployment as text
and looked up by its name from the processes deployed with it. Storing them
rather than reading them from disk at run time means a process behaves the
same on every hub and from any working directory (the rejected alternative:
remember the folder the model was deployed from, which breaks as soon as the
hub runs elsewhere).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_FILE_BYTES = 1024 * 1024
_BPMN_SUFFIXES = (".bpmn", ".bpmn2", ".xml")


@dataclass(frozen=True, slots=True)
class DeploymentFiles:
    """The non-BPMN resources of one deployment, by name, and the problems found in them."""

    files: Mapping[str, str]
    problems: tuple[str, ...] = ()

    def checksum(self) -> str:
        """One digest over every file's name and content ('' when there are none)."""
        if not self.files:
            return ""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()


def is_bpmn(name: str, data: bytes | str) -> bool:
    """A resource is BPMN when its name says so, or (unnamed suffix) when it is XML."""
    if name.lower().endswith(_BPMN_SUFFIXES):
        return True
    head = data[:64].lstrip() if isinstance(data, str) else data[:64].lstrip().decode("latin-1")
    return head.startswith("<") and "." not in PurePosixPath(name).name


def file_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a deployed file, or None: relative, no '..', no backslashes, printable."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or not name.isprintable():
        return f"resource '{name}': a file's name must be a relative path without '..' (like 'agent-rules.json')"
    if len(name) > 255:
        return f"resource '{name[:40]}...': a file's name is at most 255 characters"
    return None


def split_resources(
    resources: Sequence[tuple[str, bytes | str]],
) -> tuple[list[tuple[str, bytes | str]], DeploymentFiles]:
    """The BPMN resources, and the other files checked (UTF-8 text, at most 1 MiB, a safe relative name)."""
    bpmn: list[tuple[str, bytes | str]] = []
    files: dict[str, str] = {}
    problems: list[str] = []
    for name, data in resources:
        if is_bpmn(name, data):
            bpmn.append((name, data))
            continue
        problem = file_name_problem(name)
        size = len(data.encode() if isinstance(data, str) else data)
        if problem is None and size > MAX_FILE_BYTES:
            problem = f"resource '{name}': {size} bytes, more than a deployed file may hold ({MAX_FILE_BYTES})"
        if problem is None and name in files:
            problem = f"resource '{name}' is given twice"
        if problem is None and isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                problem = f"resource '{name}' is not UTF-8 text"
        if problem is not None:
            problems.append(problem)
        else:
            assert isinstance(data, str)
            files[name] = data
    return bpmn, DeploymentFiles(files, tuple(problems))
