"""One JSON object per log line, with secret values and tokens masked.

The app never logs a value on purpose; the redactor is the second line of defence, for text an
SDK or a future change might put in a message. The Azure SDK's own HTTP logging is kept quiet
(its INFO lines list every request's URL and headers).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime
from typing import TextIO

MASK = "[REDACTED]"
# Bearer tokens in headers, and token or assertion fields in form bodies or JSON.
_TOKEN_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(
        r"(?i)(\"?(?:access_token|refresh_token|client_assertion|client_secret)\"?\s*[:=]\s*\"?)[^\"&\s,}]+"
    ),
)
# A JWT (the federated service-account token is one): three base64url parts, the first `eyJ`.
_JWT_PATTERN = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Attributes every LogRecord has; anything else on a record was passed as `extra` fields.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class SecretRedactor:
    """Masks the secret values registered with it, and anything shaped like a token."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()  # settings load in a thread while the server logs

    def register(self, value: str) -> None:
        if value:
            with self._lock:
                self._values.add(value)

    def redact(self, text: str) -> str:
        with self._lock:
            # Longest first, so a secret containing another is masked whole.
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(lambda match: match.group(1) + MASK, text)
        return _JWT_PATTERN.sub(MASK, text)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, then the record's `extra` fields."""

    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redactor.redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name in _RECORD_ATTRIBUTES or name.startswith("_"):
                continue
            is_plain = isinstance(value, bool | int | float) or value is None
            entry[name] = value if is_plain else self._redactor.redact(str(value))
        if record.exc_info:
            entry["exception"] = self._redactor.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(redactor: SecretRedactor, stream: TextIO) -> None:
    """Route every logger, uvicorn's and the Azure SDK's included, through one JSON handler."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # At INFO the SDK's HttpLoggingPolicy logs each request and response with its headers.
    logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
    # A failed credential chain logs a multi-line warning; the app's one fatal line carries the
    # same explanation, so the SDK's copy would only say it twice.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    logging.getLogger("msal").setLevel(logging.WARNING)
