"""Model strings to models: offline and real providers registered alike, cached per string, clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.agent.turn import MODEL_JOB_TYPE, AgentTurn
from engine.scheduler import Job
from protocols.llm import (
    ChatModel,
    LiteLLMModel,
    ModelFileInvalid,
    ModelReply,
    ModelResolver,
    ModelTask,
    OfflinePlanner,
    RuleModel,
    ScriptedModel,
    UnknownModel,
)
from tests.protocols.llm.conversation import DATA, SUPPORT_TOOLS, make_turn, start

REPO = Path(__file__).resolve().parents[3]


class Echo:
    def __init__(self, argument: str) -> None:
        self.argument = argument

    def complete(self, turn: AgentTurn) -> ModelReply:
        return ModelReply({"final": self.argument, "content": None}, {"model": turn.model})


def test_the_standard_resolver_knows_the_offline_kinds_and_sends_the_rest_to_litellm(tmp_path: Path) -> None:
    shutil.copy(DATA / "support_turns.json", tmp_path / "turns.json")
    shutil.copy(DATA / "support_rules.json", tmp_path / "rules.json")
    resolver = ModelResolver.standard(files_root=tmp_path, timeout_s=5)

    assert isinstance(resolver.resolve("offline"), OfflinePlanner)
    scripted = resolver.resolve("scripted:turns.json")
    assert isinstance(scripted, ScriptedModel)
    assert scripted.complete(make_turn(start("x"))).usage["model"] == "scripted:turns.json"  # as the agent named it
    assert isinstance(resolver.resolve("rules:rules.json"), RuleModel)
    real = resolver.resolve("openai/gpt-4o-mini")
    assert isinstance(real, LiteLLMModel) and real.model == "openai/gpt-4o-mini" and real.timeout_s == 5
    assert isinstance(resolver.resolve("ollama/llama3:8b"), LiteLLMModel)  # a colon after the provider is litellm's
    assert resolver.names() == ["offline", "rules:", "scripted:"]


def test_models_are_built_once_per_string() -> None:
    resolver = ModelResolver.standard()
    path = f"scripted:{DATA / 'support_turns.json'}"
    assert resolver.resolve(path) is resolver.resolve(path)
    assert resolver.resolve("offline") is resolver.resolve("offline")


def test_a_file_that_failed_to_load_is_read_again_on_the_next_resolve(tmp_path: Path) -> None:
    resolver = ModelResolver.standard(files_root=tmp_path)
    with pytest.raises(ModelFileInvalid, match="not found"):
        resolver.resolve("scripted:turns.json")
    (tmp_path / "turns.json").write_text(json.dumps([{"final": "fixed"}]))
    assert resolver.resolve("scripted:turns.json").complete(make_turn(start("x"))).answer["final"] == "fixed"


def test_a_model_file_outside_the_files_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "outside.json").write_text("[]")
    resolver = ModelResolver.standard(files_root=tmp_path / "inner")
    with pytest.raises(UnknownModel, match="lies outside the model files folder"):
        resolver.resolve("scripted:../outside.json")
    with pytest.raises(UnknownModel, match="lies outside"):
        resolver.resolve(f"rules:{tmp_path / 'outside.json'}")


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("", "no model given"),
        ("   ", "no model given"),
        ("openai/gpt 4o", "contains spaces or control characters"),
        ("offline\n", "contains spaces or control characters"),
        ("scriptd:turns.json", "'scriptd:' is not a known kind of model; use one of 'offline', 'rules:PATH', "
                               "'scripted:PATH' or a litellm model 'provider/name'"),
        ("https://example.invalid/v1", "'https:' is not a known kind of model"),
        ("scripted:", "names no file"),
    ],
)
def test_a_malformed_or_unknown_model_string_says_what_to_write(model: str, says: str) -> None:
    with pytest.raises(UnknownModel, match=says.replace("(", r"\(").replace(")", r"\)")):
        ModelResolver.standard().resolve(model)


def test_without_a_fallback_only_registered_models_resolve() -> None:
    resolver = ModelResolver()
    resolver.register("echo", lambda rest: Echo("plain"))
    resolver.register("fake:", Echo)

    assert resolver.resolve("echo").complete(make_turn([])).answer["final"] == "plain"
    assert resolver.resolve("fake:a/b:c").complete(make_turn([])).answer["final"] == "a/b:c"
    with pytest.raises(UnknownModel, match="'openai/gpt-4o' is not registered; use one of 'echo', 'fake:PATH'"):
        resolver.resolve("openai/gpt-4o")


@pytest.mark.parametrize("name", ["", ":", "two words", "1x:", "a:b:"])
def test_a_registration_needs_a_word_or_a_word_ending_in_a_colon(name: str) -> None:
    with pytest.raises(ValueError, match="a model kind is a word"):
        ModelResolver().register(name, Echo)


def test_the_model_task_answers_the_turn_of_its_job_with_the_turns_model() -> None:
    turns: dict[int, AgentTurn] = {}

    class Turns:
        def agent_turn(self, job: int) -> AgentTurn:
            return turns[job]

        def deployment_file(self, deployment: int, name: str) -> str | None:
            return None

    turn = make_turn(start({"orderId": "A-17"}), SUPPORT_TOOLS, model="offline")
    turns[41] = turn
    job = Job(key=41, type=MODEL_JOB_TYPE, variables={}, headers={"model": "offline"}, retries=3,
              instance=turn.instance, element_id=turn.element_id, process_id="support_agent")
    variables = ModelTask(Turns(), ModelResolver.standard())(job)

    assert set(variables) == {"answer", "usage"}
    assert variables["answer"]["toolCalls"][0]["name"] == "lookup_order"
    assert variables["usage"]["model"] == "offline"


def test_every_model_satisfies_the_chat_model_protocol() -> None:
    models: list[ChatModel] = [OfflinePlanner(), LiteLLMModel("openai/x"), Echo("x")]
    assert all(callable(model.complete) for model in models)


def test_importing_the_package_does_not_import_litellm() -> None:
    code = "import sys, protocols.llm; print('litellm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=True)
    assert done.stdout.strip() == "False"


def test_a_model_file_deployed_with_the_process_wins_over_the_disk(tmp_path: Path) -> None:
    """rules:NAME / scripted:NAME are read from the agent's deployment first, from any working directory."""
    on_disk = tmp_path / "turns.json"
    on_disk.write_text(json.dumps([{"final": "from the disk"}]))
    deployed = {(7, "turns.json"): json.dumps([{"final": "from the deployment"}])}
    reads: list[tuple[int, str]] = []

    def files(deployment: int, name: str) -> str | None:
        reads.append((deployment, name))
        return deployed.get((deployment, name))

    resolver = ModelResolver.standard(files_root=tmp_path)
    turn = make_turn(start("hi"), model="scripted:turns.json")
    model = resolver.resolve_for("scripted:turns.json", 7, files)
    assert model.complete(turn).answer["final"] == "from the deployment"
    assert resolver.resolve_for("scripted:turns.json", 7, files) is model  # built once per deployment
    assert reads == [(7, "turns.json")]
    # a deployment without that file, or no deployment, reads the disk as before
    assert resolver.resolve_for("scripted:turns.json", 8, files).complete(turn).answer["final"] == "from the disk"
    assert resolver.resolve_for("scripted:turns.json", None, files).complete(turn).answer["final"] == "from the disk"


def test_a_broken_deployed_model_file_names_the_file_and_the_problem() -> None:
    resolver = ModelResolver.standard()
    with pytest.raises(ModelFileInvalid) as raised:
        resolver.resolve_for("rules:agent-rules.json", 3, lambda deployment, name: "{not json")
    assert "agent-rules.json" in str(raised.value) and "not JSON" in str(raised.value)
