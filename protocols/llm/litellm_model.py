"""Any provider litellm knows (OpenAI, Anthropic, Gemini, Bedrock, Ollama, vLLM, ...), through its SDK.

The model string is litellm's: ``provider/model`` such as
``openai/gpt-4o-mini``, ``anthropic/claude-sonnet-4-5`` or ``ollama/llama3``.
The turn's ``model_endpoint`` becomes litellm's ``api_base``, which is how an
OpenAI-compatible server (vLLM, a local gateway) is reached.

Keys: litellm reads them from the environment (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY``, ...). The one exception is a Camunda agent, whose
credentials are secrets its provider configuration names
(``camunda_providers``): they come in ``options``, with their values in
``hidden``. Every answer, usage record and error this module produces is
scrubbed of the secret values found in the environment and of ``hidden``.

One call, one attempt: litellm's own retries are off, because the engine
retries the job (with backoff, then an incident) and a hidden retry would
spend budget the journal does not see. litellm is imported on first use, as
it takes seconds; it is told to use its bundled price list and catalogs and
never to fetch them, and no callbacks are registered.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from engine.agent.turn import AgentTurn
from protocols.llm._conversation import Timer
from protocols.llm._openai_format import answer_from, openai_messages, openai_tools
from protocols.llm._scrub import scrub, scrub_text, secrets
from protocols.llm.exceptions import ModelCallFailed, UnknownModel
from protocols.llm.reply import ModelReply, make_usage

__all__ = ["DEFAULT_TIMEOUT_S", "LiteLLMModel"]

DEFAULT_TIMEOUT_S = 120.0
_MAX_ERROR = 1000
_setup_lock = threading.Lock()


class LiteLLMModel:
    """Calls ``litellm.completion`` once per step. ``api_base`` is used when the turn names no endpoint."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        timer: Timer = time.perf_counter,
        options: Mapping[str, Any] | None = None,
        hidden: tuple[str, ...] = (),
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s}")
        self.model = model
        self.api_base = api_base
        self.timeout_s = timeout_s
        self._timer = timer
        self._options = dict(options or {})  # more keyword arguments of litellm.completion (credentials too)
        self._hidden = hidden

    def complete(self, turn: AgentTurn) -> ModelReply:
        litellm = _litellm()
        hidden = tuple(sorted({*secrets(), *self._hidden}, key=len, reverse=True))
        api_base = turn.model_endpoint or self.api_base
        self._check_provider(litellm, api_base)
        messages, tools = openai_messages(turn.messages), openai_tools(turn.tools)
        started = self._timer()
        try:
            response = litellm.completion(
                **self._options,
                model=self.model,
                messages=messages,
                tools=tools or None,
                api_base=api_base,
                timeout=self.timeout_s,
                max_retries=0,
                num_retries=0,
            )
        except Exception as exc:  # any provider failure fails the attempt; the engine retries the job
            raise ModelCallFailed(self._describe(litellm, exc, api_base, hidden)) from None
        latency_ms = max(0, round((self._timer() - started) * 1000))
        try:
            message = response.choices[0].message
        except (AttributeError, IndexError, TypeError):
            raise ModelCallFailed(f"{self.model}: the response holds no choice{_at(api_base)}") from None
        answer = scrub(answer_from(message), hidden)
        usage = getattr(response, "usage", None)
        input_tokens = _count(getattr(usage, "prompt_tokens", 0))
        output_tokens = _count(getattr(usage, "completion_tokens", 0))
        cost = _cost(litellm, response)
        return ModelReply(answer, make_usage(self.model, input_tokens, output_tokens, cost, latency_ms))

    def _check_provider(self, litellm: Any, api_base: str | None) -> None:
        try:
            litellm.get_llm_provider(model=self.model, api_base=api_base)
        except Exception:
            raise UnknownModel(
                f"{self.model!r} is not a model litellm can reach: write it as 'provider/model', e.g. "
                "'openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-5' or 'ollama/llama3' "
                "(https://docs.litellm.ai/docs/providers), or use 'offline', 'scripted:PATH' or 'rules:PATH'"
            ) from None

    def _describe(self, litellm: Any, exc: Exception, api_base: str | None, hidden: tuple[str, ...]) -> str:
        if isinstance(exc, litellm.Timeout):
            return f"{self.model}: no answer within {self.timeout_s:g} s{_at(api_base)}"
        text = scrub_text(str(exc), hidden)
        if len(text) > _MAX_ERROR:
            text = text[:_MAX_ERROR] + "..."
        return f"{self.model}: {type(exc).__name__}{_at(api_base)}: {text}"


def _litellm() -> Any:
    """litellm, imported and set up on first use."""
    with _setup_lock:
        # Before the import: the price list and catalogs are otherwise fetched from the network at import time.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
        import litellm

        litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
        litellm.turn_off_message_logging = True  # should a callback ever be added, it sees no conversation
        litellm.disable_hf_tokenizer_download = True
        return litellm


def _cost(litellm: Any, response: Any) -> float:
    """The call's price in USD from litellm's bundled price list; 0 when it does not know the model."""
    try:
        cost = float(litellm.completion_cost(completion_response=response))
    except Exception:  # an unpriced model (a local one, a new one) must never fail a step
        return 0.0
    return cost if math.isfinite(cost) and cost >= 0 else 0.0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _at(api_base: str | None) -> str:
    """`` at scheme://host:port/path`` without user info or query, which may carry credentials."""
    if not api_base:
        return ""
    parts = urlsplit(api_base)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f" at {parts.scheme}://{host}{port}{parts.path}"
