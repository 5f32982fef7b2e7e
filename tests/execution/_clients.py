"""Model functions for the execution tests: the real openai SDK talking to the fake server.

They return a ``str`` subclass carrying the provider's token counts, as adapters do, and never
retry on their own (``max_retries=0``): retrying is the executor's job.
"""

from __future__ import annotations

from typing import Any


class Answer(str):
    input_tokens: int | None
    output_tokens: int | None

    def __new__(cls, text: str, input_tokens: int | None, output_tokens: int | None) -> Answer:
        obj = super().__new__(cls, text)
        obj.input_tokens, obj.output_tokens = input_tokens, output_tokens
        return obj


class OpenAIChat:
    """``await OpenAIChat(base_url)(prompt)``: one chat completion against ``base_url``."""

    def __init__(self, base_url: str, *, api_key: str = "sk-test-not-a-real-key", timeout: float = 20.0) -> None:
        self.base_url, self.api_key, self.timeout = base_url, api_key, timeout
        self._client: Any = None
        self.cache_key = f"openai-chat:{base_url}:fake-model:temperature=0"

    async def __call__(self, prompt: str) -> Answer:
        import openai

        if self._client is None:  # created inside the running loop
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self.api_key, max_retries=0, timeout=self.timeout
            )
        r = await self._client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": prompt}], temperature=0
        )
        usage = r.usage
        return Answer(
            r.choices[0].message.content or "",
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
        )

    async def aclose(self) -> None:
        """Close the SDK client on the loop it was opened on (a run calls this when it ends)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
