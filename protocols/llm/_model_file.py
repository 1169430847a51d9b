"""Reading the JSON files of the offline models, with every problem reported at once and where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

from protocols.llm.exceptions import ModelFileInvalid, UnknownModel


def resolve_path(argument: str, root: Path | None) -> Path:
    """The file a ``scripted:``/``rules:`` model names: relative to ``root`` (else the working directory).

    With a ``root`` the file must lie inside it, so that a deployed process
    cannot make the hub read any file it likes.
    """
    if not argument.strip():
        raise UnknownModel("the model string names no file: write e.g. 'scripted:turns.json'")
    path = Path(argument).expanduser()
    if root is None:
        return path.resolve()
    base = root.resolve()
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base):
        raise UnknownModel(f"model file {argument!r} lies outside the model files folder {base}")
    return resolved


def load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileInvalid(path, ["file: not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileInvalid(path, [f"file: cannot be read ({exc.__class__.__name__})"]) from None
    return parse_json(text, path)


def parse_json(text: str, path: Path) -> Any:
    """The JSON of a model file's ``text``; ``path`` names it in problems (a deployed file: its resource name)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileInvalid(path, [f"line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}"]) from None


class Problems:
    """Collects ``"<where>: <what>"`` while a file is checked; ``raise_if_any`` reports them together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.found.append(f"{where}: {what}")

    def fail(self, where: str, what: str) -> NoReturn:
        self.add(where, what)
        raise ModelFileInvalid(self.path, self.found)

    def raise_if_any(self) -> None:
        if self.found:
            raise ModelFileInvalid(self.path, self.found)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
