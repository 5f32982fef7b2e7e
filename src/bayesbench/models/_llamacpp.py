"""In-process GGUF models through llama-cpp-python: generation and log-likelihood scoring.

Log-likelihoods are computed from the logits here (``Llama.eval`` + ``scores``), not with the
server's ``echo`` logprobs, which llama-cpp-python 0.3.x shifts by one position.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import positive_int
from ..errors import ConfigError
from ._common import require
from ._completion import Completion
from ._errors import IncompleteResponse, MalformedResponse
from ._prompt import PromptFn
from ._provider import ProviderModel

__all__ = ["LlamaCppModel", "LoglikelihoodResult", "llamacpp_model"]


_LOG_STATE: dict[str, Any] = {"callback": None, "held": None}
_LOG_LOCK = threading.Lock()


@contextlib.contextmanager
def _load_logs(llama_cpp: Any, verbose: bool) -> Any:
    """Hold llama.cpp's log lines while a model loads unless ``verbose``; show them only if the load fails.

    llama.cpp logs some notices at its ERROR level (e.g. "llama_kv_cache_iswa: using full-size SWA cache"), which
    llama-cpp-python's verbose=False lets through, so one such line reached every run's output."""
    if verbose:
        yield
        return
    with _LOG_LOCK:
        if _LOG_STATE["callback"] is None:
            import ctypes
            import sys

            def forward(level: int, text: bytes, user_data: Any) -> None:
                held = _LOG_STATE["held"]
                if held is not None:
                    held.append(text.decode("utf-8", errors="replace"))
                elif level == 3:  # after loading, llama.cpp's errors still reach stderr
                    sys.stderr.write(text.decode("utf-8", errors="replace"))

            _LOG_STATE["callback"] = llama_cpp.llama_log_callback(forward)  # kept: C holds only a pointer
            llama_cpp.llama_log_set(_LOG_STATE["callback"], ctypes.c_void_p(0))
        _LOG_STATE["held"] = []
        try:
            yield
        except Exception as exc:
            logs = "".join(_LOG_STATE["held"] or [])[-2000:]
            if logs and hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(f"llama.cpp said:\n{logs}")
            raise
        finally:
            _LOG_STATE["held"] = None


@dataclass(frozen=True)
class LoglikelihoodResult:
    """Log-likelihood of one continuation given the context.

    * ``logprob``: sum of the continuation tokens' log-probabilities (natural log).
    * ``logprob_per_byte``: ``logprob`` divided by the continuation's UTF-8 length, lm-eval's
      length normalisation (``acc_norm``), fair between short and long choices.
    * ``n_tokens``: continuation tokens scored. ``is_greedy``: every token was the argmax.
    """

    continuation: str
    logprob: float
    logprob_per_byte: float
    n_tokens: int
    is_greedy: bool


def _log_softmax(row: np.ndarray) -> np.ndarray:
    row = row.astype(np.float64)
    shifted = row - row.max()
    return shifted - math.log(float(np.exp(shifted).sum()))


class LlamaCppModel(ProviderModel):
    """A GGUF model run in this process. Build it with :func:`llamacpp_model`.

    Calls are serialised with a lock (a ``Llama`` object is not thread-safe), so concurrency
    above 1 only queues; run several processes or the llama.cpp server for parallelism.
    Generation goes through the shared call path (completeness check, redaction, error
    wrapping); :meth:`close` frees the model, and a later call loads it again.
    """

    provider = "llama.cpp"
    protocol = "a llama.cpp completion"

    def __init__(
        self,
        path: str,
        *,
        n_ctx: int,
        n_threads: int,
        chat_format: str | None,
        verbose: bool,
        **options: Any,
    ) -> None:
        self._llama_cpp = require("llama_cpp", package="llama-cpp-python", extra="local", feature="llamacpp_model()")
        model_path = Path(os.fspath(path)).expanduser()
        if not model_path.is_file():
            raise ConfigError(f"`path` must be an existing .gguf file, got {str(path)!r}; check the path")
        super().__init__(model_path.name, **options)
        self.path = str(model_path.resolve())
        self.n_ctx = positive_int("n_ctx", n_ctx, minimum=16)
        self.n_threads = positive_int("n_threads", n_threads)
        self.chat_format = chat_format
        self.verbose = bool(verbose)
        self._lock = threading.Lock()
        self._sync_client()  # load now: a broken file fails here, not at the first call

    def _open(self) -> Any:
        # logits_all keeps every position's logits, which loglikelihood needs.
        with _load_logs(self._llama_cpp, self.verbose):
            return self._llama_cpp.Llama(
                model_path=self.path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=self.seed if self.seed is not None else 0,
                logits_all=True,
                chat_format=self.chat_format,
                verbose=self.verbose,
            )

    @property
    def _llm(self) -> Any:
        return self._sync_client()

    def _answer_parameters(self) -> dict[str, Any]:
        # The file's size and mtime stand for its content: a re-quantised file under the same
        # name must not hit the old answers. n_threads and verbose do not change answers.
        stat = os.stat(self.path)
        return {**super()._answer_parameters(), "path": self.path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "n_ctx": self.n_ctx, "chat_format": self.chat_format}

    def __repr__(self) -> str:
        return f"LlamaCppModel(path={self.path!r}, mode={self.mode!r}, n_threads={self.n_threads})"

    def _send(self, llm: Any, prompt: str) -> Any:
        common: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.seed is not None:
            common["seed"] = self.seed
        with self._lock:
            if self.mode == "chat":
                return llm.create_chat_completion(messages=self._messages(prompt), **common)
            return llm.create_completion(prompt=self._completion_prompt(prompt), **common)

    def _parse(self, out: Any) -> Completion:
        choices = out.get("choices") if isinstance(out, dict) else None
        if not isinstance(choices, list):
            raise MalformedResponse(f"malformed response: not {self.protocol} (no `choices` list)")
        if not choices:
            raise IncompleteResponse("incomplete response: `choices` is empty, there is no answer")
        choice = choices[0]
        text = choice["message"].get("content") if self.mode == "chat" else choice.get("text")
        if not isinstance(text, str):
            raise IncompleteResponse(f"incomplete response: the answer text is {text!r}")
        usage = out.get("usage") or {}
        return Completion(
            text,
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            model=self.model,
            finish_reason=choice.get("finish_reason"),
            raw_usage=dict(usage) or None,
        )

    def batch_generate(self, prompts: list[str]) -> list[Completion]:
        """Generate for several prompts in turn (one model, so no parallelism to gain)."""
        return [self.generate(p) for p in prompts]

    # -- scoring -------------------------------------------------------------------------------
    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=bos, special=False))

    def _split_tokens(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation tokens such that their concatenation is what the model sees.

        Tokenising ``context + continuation`` whole and cutting at the context's length matches
        how the text would be tokenised in use; when the boundary merges across (the whole
        encoding does not start with the context's), encode the parts separately instead.
        """
        ctx = self._tokenize(context, bos=True)
        whole = self._tokenize(context + continuation, bos=True)
        if whole[: len(ctx)] == ctx and len(whole) > len(ctx):
            return ctx, whole[len(ctx) :]
        return ctx, self._tokenize(continuation, bos=False)

    def loglikelihood(self, context: str, continuations: Sequence[str]) -> list[LoglikelihoodResult]:
        """Log-likelihood of each continuation after ``context`` (e.g. the choices of a question).

        The context is evaluated once and its KV cache reused for every continuation.
        """
        if isinstance(continuations, str):
            raise ConfigError("`continuations` must be a list of str, got a single str; wrap it: [continuation]")
        if not continuations:
            raise ConfigError("`continuations` must hold at least one str, got an empty list")
        results = []
        with self._lock:
            llm = self._llm
            ctx_tokens: list[int] | None = None
            for continuation in continuations:
                if not isinstance(continuation, str) or not continuation:
                    raise ConfigError(f"each continuation must be a non-empty str, got {continuation!r}")
                ctx, cont = self._split_tokens(context, continuation)
                if len(ctx) + len(cont) > self.n_ctx:
                    raise ConfigError(
                        f"context + continuation is {len(ctx) + len(cont)} tokens, more than n_ctx={self.n_ctx}; "
                        "raise n_ctx= or shorten the context"
                    )
                if ctx != ctx_tokens:
                    llm.reset()
                    llm.eval(ctx)
                    ctx_tokens = ctx
                else:
                    llm.n_tokens = len(ctx)  # drop the previous continuation, keep the context cache
                llm.eval(cont)
                scores = llm.scores
                total, greedy = 0.0, True
                for i, token in enumerate(cont):
                    row = _log_softmax(np.asarray(scores[len(ctx) + i - 1]))  # logits predicting position len(ctx)+i
                    total += float(row[token])
                    greedy = greedy and int(np.argmax(row)) == token
                n_bytes = len(continuation.encode("utf-8"))
                results.append(LoglikelihoodResult(continuation, total, total / n_bytes, len(cont), greedy))
        return results


def llamacpp_model(
    path: str | os.PathLike[str],
    *,
    prompt_key: str | None = None,
    prompt_fn: PromptFn | None = None,
    system_prompt: str | None = None,
    mode: str = "chat",
    temperature: float = 0.0,
    max_tokens: int = 256,
    seed: int | None = 0,
    timeout: float | None = None,
    n_ctx: int = 2048,
    n_threads: int = 1,
    chat_format: str | None = None,
    verbose: bool = False,
) -> LlamaCppModel:
    """A local GGUF model run in-process with llama-cpp-python.

    Args:
        path: the ``.gguf`` file.
        mode: ``"chat"`` (the model's chat template) or ``"completion"`` (raw text).
        temperature: 0.0 (greedy) by default; ``seed`` (0) makes sampling repeatable.
        max_tokens: 256 by default.
        timeout: unused in-process (kept for a uniform signature); the execution layer's
            timeout still applies around the call.
        n_ctx: context window, 2048. n_threads: 1, the fastest on a busy 2-core machine (more
            threads contend); raise it on an idle many-core machine.
        chat_format: override the template llama.cpp reads from the GGUF metadata.
        verbose: let llama.cpp print its logs.

    Besides generation, :meth:`LlamaCppModel.loglikelihood` scores multiple-choice continuations.
    """
    options = dict(locals())  # every parameter above, by name
    options["path"] = os.fspath(path)
    return LlamaCppModel(**options)
