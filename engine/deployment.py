"""Deploying BPMN, DMN and forms: parse and check every resource, then store each process, decision and form as a
new version or reuse one."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from engine.agent.config import agent_problems
from engine.core import EngineCore
from engine.decisions import DeployedDecision, read_decisions, store_decisions
from engine.dmn import DecisionGraph
from engine.exceptions import DeploymentError, InvalidInput
from engine.exposure import offers_tool, tool_problems
from engine.forms import DeployedForm, FormDocument, read_forms, store_forms
from engine.model import Definitions
from engine.parser import BpmnParseError, Problem, parse_bpmn
from engine.resources import DeploymentFiles, split_resources
from engine.runtime.lint import call_warnings
from engine.runtime.support import process_warnings, unsupported_problems
from engine.store.protocol import StoreTx
from engine.store.rows import DefinitionRow
from engine.views import DeployedProcess


@dataclasses.dataclass(frozen=True, slots=True)
class Deployment:
    """What one deployment stored: its key, and each process, decision and form (a new version or one reused)."""

    key: int
    processes: tuple[DeployedProcess, ...]
    decisions: tuple[DeployedDecision, ...]
    forms: tuple[DeployedForm, ...]


class Deployer:
    """The deployment command of ``engine.Engine``."""

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel

    def deploy(
        self,
        resources: Sequence[tuple[str, bytes | str]],
        *,
        name: str | None = None,
        expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[DeployedProcess]:
        """``Engine.deploy``: see its docstring."""
        return self.deploy_all(resources, name=name, expose=expose, progress=progress)[0]

    def deploy_all(
        self,
        resources: Sequence[tuple[str, bytes | str]],
        *,
        name: str | None = None,
        expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> tuple[list[DeployedProcess], list[DeployedDecision]]:
        """``deploy``, also answering the DMN decisions deployed (or reused)."""
        done = self.deploy_resources(resources, name=name, expose=expose, progress=progress)
        return list(done.processes), list(done.decisions)

    def deploy_resources(
        self,
        resources: Sequence[tuple[str, bytes | str]],
        *,
        name: str | None = None,
        expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Deployment:
        """``deploy``, answering the whole deployment: its key, processes, decisions and forms."""
        if not resources:
            raise InvalidInput("nothing to deploy: give at least one BPMN resource (or a .dmn file)")
        resources, files = split_resources(resources)
        graphs, decision_problems = read_decisions(files.files)
        forms, form_problems = read_forms(files.files)
        if not resources and not graphs and not decision_problems and not forms and not form_problems:
            raise InvalidInput(
                "nothing to deploy: give at least one BPMN resource, .dmn or .form file (files such as model files go "
                "with the BPMN)"
            )
        with self._k.store.reader() as tx:
            known = {row.process_id for row in tx.definitions.versions()}
        parsed: list[tuple[str, str, Definitions]] = []
        problems: list[Any] = []
        in_batch: set[str] = set()
        for _, data in resources:
            with contextlib.suppress(BpmnParseError):  # a first pass: which process ids this deployment brings
                in_batch.update(parse_bpmn(data).processes)
        warnings: dict[tuple[str, str], tuple[Problem, ...]] = {}
        for done, (resource_name, data) in enumerate(resources, start=1):
            if progress is not None:
                progress(done, len(resources), resource_name)
            text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
            try:
                definitions = parse_bpmn(data, source_name=resource_name, known_process_ids=known | in_batch)
            except BpmnParseError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(unsupported_problems(definitions, resource_name))
            for process in definitions.processes.values():
                problems.extend(tool_problems(process, resource_name))
                problems.extend(agent_problems(process, resource_name))
                found = [*process_warnings(process, resource_name),
                         *call_warnings(process, resource_name, known | in_batch)]
                warnings[(resource_name, process.id)] = tuple(found)
            parsed.append((resource_name, text, definitions))
        problems.extend(files.problems)
        problems.extend(decision_problems)
        problems.extend(form_problems)
        if problems:
            raise DeploymentError(problems)
        stored = self._k.atomic(lambda tx: self._store(tx, parsed, files, graphs, forms, name, expose))
        processes = tuple(
            dataclasses.replace(d, warnings=warnings.get((d.resource_name, d.process_id), ())) for d in stored.processes
        )
        return dataclasses.replace(stored, processes=processes)

    def _store(
        self,
        tx: StoreTx,
        parsed: list[tuple[str, str, Definitions]],
        files: DeploymentFiles,
        graphs: dict[str, DecisionGraph],
        forms: dict[str, FormDocument],
        name: str | None,
        expose: bool,
    ) -> Deployment:
        at = self._k.millis()
        deployment = tx.next_key()
        tx.definitions.insert_deployment(deployment, name or ", ".join([*(r for r, _, _ in parsed), *graphs, *forms]),
                                         at)
        for file_name, content in sorted(files.files.items()):
            digest = hashlib.sha256(content.encode()).hexdigest()
            tx.definitions.insert_resource(deployment, file_name, digest, content, at)
        # A process deployed with files is the same version only when its files are the same too.
        with_files = files.checksum()
        deployed: list[DeployedProcess] = []
        for resource_name, text, definitions in parsed:
            checksum = hashlib.sha256((text + with_files).encode()).hexdigest()
            for process in definitions.processes.values():
                if not process.executable:
                    continue
                latest = tx.definitions.latest(process.id)
                exposed = expose or offers_tool(process)
                if latest is not None and latest.checksum == checksum:
                    if exposed and not latest.exposed:
                        tx.definitions.expose(int(latest.key))
                    deployed.append(
                        DeployedProcess(process.id, int(latest.version), int(latest.key), resource_name, is_new=False)
                    )
                    continue
                version = int(latest.version) + 1 if latest is not None else 1
                key = tx.next_key()
                row = DefinitionRow(key=key, process_id=process.id, version=version, name=process.name,
                                    deployment_key=deployment, resource_name=resource_name, checksum=checksum,
                                    created_at=at, exposed=exposed)
                tx.definitions.insert(row, text)
                self._k.remember(key, process)
                self._k.unit(tx).register_start_events(process, key)
                deployed.append(DeployedProcess(process.id, version, key, resource_name, is_new=True))
        stored_forms = store_forms(tx, deployment, forms, files.files, at)
        decisions = store_decisions(tx, deployment, graphs, files.files, at)
        return Deployment(deployment, tuple(deployed), tuple(decisions), tuple(stored_forms))
