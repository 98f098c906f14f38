"""One JSON object per line, and nothing secret in it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from secretless_app.json_logging import MASK, JsonFormatter, SecretRedactor, configure_logging

SECRET = 'p@ss"word-0f-the-vault'
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl"

_LOGGERS = (
    "",
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "msal",
)


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, SecretRedactor]]:
    """configure_logging on a buffer; the global logging state is put back afterwards."""
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    saved_handlers = logging.getLogger().handlers[:]
    stream, redactor = io.StringIO(), SecretRedactor()
    configure_logging(redactor, stream)
    yield stream, redactor
    logging.getLogger().handlers[:] = saved_handlers
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _format(message: str, redactor: SecretRedactor, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter(redactor).format(record))


def test_a_line_has_time_level_logger_message_and_fields() -> None:
    line = _format("settings loaded", SecretRedactor(), vault_url="https://v", exit_code=2)
    assert line.keys() == {"time", "level", "logger", "message", "vault_url", "exit_code"}
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "app", "settings loaded")
    assert line["exit_code"] == 2  # numbers stay numbers
    assert line["time"].endswith("Z")


def test_registered_secret_values_are_masked_in_message_and_fields() -> None:
    redactor = SecretRedactor()
    redactor.register(SECRET)
    line = _format(f"value is {SECRET}", redactor, cause=f"it was {SECRET}!")
    assert (line["message"], line["cause"]) == (f"value is {MASK}", f"it was {MASK}!")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.DEF-123_~+/==", f"Authorization: Bearer {MASK}"),
        (
            '{"access_token": "tok3n", "expires_in": 3599}',
            f'{{"access_token": "{MASK}", "expires_in": 3599}}',
        ),
        (
            "client_assertion=eyJx.eyJy.z&client_id=c",
            f"client_assertion={MASK}&client_id=c",
        ),
        (f"token file holds {JWT}", f"token file holds {MASK}"),
    ],
)
def test_token_shaped_text_is_masked(text: str, expected: str) -> None:
    assert SecretRedactor().redact(text) == expected


def test_a_secret_in_an_exception_is_masked(captured: tuple[io.StringIO, SecretRedactor]) -> None:
    stream, redactor = captured
    redactor.register(SECRET)
    try:
        raise ValueError(f"bad value {SECRET}")
    except ValueError:
        logging.getLogger("secretless_app").exception("failed")
    (line,) = _lines(stream)
    assert SECRET not in stream.getvalue()
    assert f"bad value {MASK}" in line["exception"]


def test_the_sdks_http_logging_is_silent_at_info(
    captured: tuple[io.StringIO, SecretRedactor],
) -> None:
    stream, _ = captured
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").info(
        "Request headers: 'Authorization': 'REDACTED'"
    )
    logging.getLogger("azure.identity._credentials.chained").warning("every credential failed")
    logging.getLogger("secretless_app").info("kept")
    assert [line["message"] for line in _lines(stream)] == ["kept"]


def test_uvicorns_coloured_copy_of_the_message_is_dropped(
    captured: tuple[io.StringIO, SecretRedactor],
) -> None:
    stream, _ = captured
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[36mStarted"})
    (line,) = _lines(stream)
    assert "color_message" not in line
