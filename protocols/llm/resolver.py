"""From a model string (an agent's ``model`` attribute) to the ChatModel that answers for it.

Offline and real providers are registered the same way, by name or by prefix:

    resolver = ModelResolver.standard()          # scripted:, rules:, offline, and litellm for the rest
    resolver.register("echo", lambda _: EchoModel())
    resolver.resolve("scripted:tests/turns.json").complete(turn)

A registered name that ends with ``:`` is a prefix: its factory gets what
follows it (``scripted:PATH`` -> ``PATH``). Any other name matches exactly
and its factory gets ``""``. Strings that match nothing go to the fallback
factory with the whole string (litellm in the standard resolver).

Models are built once per string and cached: a scripted or rules file is read
on first use, and read again only after a restart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from protocols.llm._model_file import resolve_path
from protocols.llm.exceptions import UnknownModel
from protocols.llm.litellm_model import DEFAULT_TIMEOUT_S, LiteLLMModel
from protocols.llm.offline import OfflinePlanner
from protocols.llm.reply import ChatModel
from protocols.llm.rules import RuleModel
from protocols.llm.scripted import ScriptedModel

__all__ = ["DeployedFactory", "DeployedFiles", "ModelFactory", "ModelResolver"]

ModelFactory = Callable[[str], ChatModel]
# Builds a model from a file deployed with the process: (the file's text, its name, the model string).
DeployedFactory = Callable[[str, str, str], ChatModel]
# Reads a file deployed with a process: (deployment key, file name) -> its text, or None.
DeployedFiles = Callable[[int, str], "str | None"]

# "word:" before any "/": a kind of model such as "scripted:"; litellm's strings put the provider before a "/"
# ("openai/ft:gpt-4o:org", "ollama/llama3:8b"), so a colon there never belongs to them.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_.+-]*):")


class ModelResolver:
    def __init__(self, fallback: ModelFactory | None = None) -> None:
        self._fallback = fallback
        self._factories: dict[str, ModelFactory] = {}
        self._deployed: dict[str, DeployedFactory] = {}
        self._models: dict[str, ChatModel] = {}
        self._lock = threading.Lock()

    @classmethod
    def standard(cls, *, files_root: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> ModelResolver:
        """``scripted:PATH``, ``rules:PATH``, ``offline``, and litellm for every other string.

        ``files_root``: where relative paths of model files start, and the
        folder they must stay in; None resolves them against the working
        directory and allows any path. ``timeout_s``: per litellm call.
        """
        resolver = cls(lambda model: LiteLLMModel(model, timeout_s=timeout_s))
        def scripted(rest: str) -> ChatModel:
            # Named by the string the agent gave, not the resolved path: that is what the journal should show.
            return ScriptedModel.from_file(resolve_path(rest, files_root), name=f"scripted:{rest}")

        def rules(rest: str) -> ChatModel:
            return RuleModel.from_file(resolve_path(rest, files_root), name=f"rules:{rest}")

        resolver.register("scripted:", scripted)
        resolver.register("rules:", rules)
        resolver.register_deployed(
            "scripted:", lambda text, file, model: ScriptedModel.from_text(text, Path(file), name=model)
        )
        resolver.register_deployed(
            "rules:", lambda text, file, model: RuleModel.from_text(text, Path(file), name=model)
        )
        resolver.register("offline", lambda _: OfflinePlanner())
        return resolver

    def register(self, name: str, factory: ModelFactory) -> None:
        """Register ``factory`` for model strings named ``name``, or starting with it when it ends with ``:``."""
        prefix = _SCHEME.match(name)
        if not name or (name.endswith(":") and (not prefix or prefix.end() != len(name))) or not name.isprintable() \
                or any(c.isspace() for c in name):
            raise ValueError(f"a model kind is a word, or a word ending in ':' for a prefix, not {name!r}")
        with self._lock:
            self._factories[name] = factory
            self._models.clear()

    def register_deployed(self, prefix: str, factory: DeployedFactory) -> None:
        """Build ``PREFIXNAME`` models from a file NAME deployed with the agent's process, when there is one."""
        if not prefix.endswith(":") or _SCHEME.fullmatch(prefix) is None:
            raise ValueError(f"a model file kind is a word ending in ':', not {prefix!r}")
        with self._lock:
            self._deployed[prefix] = factory
            self._models.clear()

    def resolve_for(self, model: str, deployment: int | None, files: DeployedFiles) -> ChatModel:
        """The model for an agent of ``deployment``: a model file deployed with its process wins over the disk.

        ``scripted:NAME``/``rules:NAME`` are looked up among the files of the
        deployment first (stored with it, so found from any working directory
        and on any hub); only when it has no file NAME is NAME read from disk
        as ``resolve`` does. Deployed files never change, so each model is
        built once per deployment.
        """
        scheme = _SCHEME.match(model) if isinstance(model, str) else None
        factory = self._deployed.get(scheme.group(0)) if scheme else None
        if deployment is None or scheme is None or factory is None:
            return self.resolve(model)
        key = f"{deployment}\0{model}"
        with self._lock:
            cached = self._models.get(key)
        if cached is not None:
            return cached
        name = model[scheme.end() :]
        text = files(deployment, name)
        if text is None:
            return self.resolve(model)
        built = factory(text, name, model)
        with self._lock:
            self._models[key] = built
        return built

    def names(self) -> list[str]:
        """The registered names and prefixes, sorted."""
        return sorted(self._factories)

    def resolve(self, model: str) -> ChatModel:
        """The model for ``model``; raises UnknownModel, or the factory's error (e.g. ModelFileInvalid)."""
        if not isinstance(model, str) or not model.strip():
            raise UnknownModel(f"no model given (the agent's model is {model!r}); {self._choices()}")
        if model != model.strip() or any(c.isspace() or not c.isprintable() for c in model):
            raise UnknownModel(f"model {model!r} contains spaces or control characters; {self._choices()}")
        with self._lock:
            cached = self._models.get(model)
            if cached is None:
                cached = self._models[model] = self._build(model)
            return cached

    def _build(self, model: str) -> ChatModel:
        if model in self._factories and not model.endswith(":"):
            return self._factories[model]("")
        scheme = _SCHEME.match(model)
        if scheme:
            prefix = scheme.group(0)
            if prefix in self._factories:
                return self._factories[prefix](model[len(prefix) :])
            raise UnknownModel(f"model {model!r}: {prefix!r} is not a known kind of model; {self._choices()}")
        if self._fallback is None:
            raise UnknownModel(f"model {model!r} is not registered; {self._choices()}")
        return self._fallback(model)

    def _choices(self) -> str:
        kinds = ", ".join(f"'{name}PATH'" if name.endswith(":") else f"'{name}'" for name in self.names())
        litellm = " or a litellm model 'provider/name'" if self._fallback is not None else ""
        return f"use one of {kinds or 'nothing registered'}{litellm}"
