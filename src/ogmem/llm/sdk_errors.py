"""Translating the openai SDK's errors into ours; shared by the chat and embedding clients.

Every message is redacted: the API key, and anything shaped like one, never leaves here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from ogmem.core import errors

DETAIL_LIMIT = 300
KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-*.]+")


def import_sdk(what: str) -> Any:
    try:
        import openai
    except ImportError as exc:
        raise errors.ConfigurationError(
            f"{what} needs the openai package: pip install 'openai>=1.40'"
        ) from exc
    return openai


def make_client(
    what: str,
    *,
    base_url: str | None,
    api_key: str | None,
    timeout: float,
    max_retries: int,
    http_client: Any,
) -> Any:
    """An ``openai.OpenAI`` client; a bad configuration (no key...) is a ConfigurationError
    naming ``what``, with the key redacted."""
    sdk = import_sdk(what)
    try:
        return sdk.OpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout,
            max_retries=max_retries, http_client=http_client,
        )  # fmt: skip
    except sdk.OpenAIError as exc:
        reason = redact(str(exc), api_key)
        raise errors.ConfigurationError(f"cannot configure {what}: {reason}") from exc


def redact(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, "***")
    return KEY_LIKE.sub("sk-***", text)


def endpoint(url: Any) -> str:
    """Scheme, host, port and path of the base URL (never its user or password): the port
    is what tells a stopped local server from the right one."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}".rstrip("/")


def detail(exc: BaseException, key: str | None) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = message if isinstance(message, str) else str(exc)
    return redact(text, key)[:DETAIL_LIMIT]


@contextlib.contextmanager
def translated(subject: str, service: str, client: Any, timeout: float) -> Iterator[None]:
    """``subject`` names the model ("LLM 'gpt-4o'"), ``service`` the kind ("LLM", "embedding")."""
    import openai

    key = getattr(client, "api_key", None)
    try:
        yield
    except openai.APITimeoutError as exc:
        raise errors.LLMTimeout(f"{subject} did not answer within {timeout:g}s") from exc
    except openai.APIConnectionError as exc:
        where = endpoint(client.base_url)
        raise errors.LLMUnavailable(f"cannot reach the {service} endpoint at {where}") from exc
    except openai.APIStatusError as exc:
        raise _status_error(service, exc, detail(exc, key)) from exc
    except openai.APIResponseValidationError as exc:
        message = f"{service} endpoint sent an invalid response: {detail(exc, key)}"
        raise errors.LLMResponseError(message) from exc
    except openai.OpenAIError as exc:
        raise errors.LLMError(f"{service} call failed: {detail(exc, key)}") from exc


def _status_error(service: str, exc: Any, text: str) -> errors.LLMError:
    status = exc.status_code
    # 429 and 5xx reach us only once the SDK's retries are used up.
    if status == 429 or status >= 500:
        return errors.LLMUnavailable(f"{service} endpoint unavailable (HTTP {status}): {text}")
    return errors.LLMError(f"{service} request rejected (HTTP {status}): {text}")
