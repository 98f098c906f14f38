"""Startup failures that retrying cannot fix, and the exit code of each class.

Kubernetes restarts a container that exits, so each class has its own code: an operator reading
`kubectl get pod` (Last State: Terminated, Exit Code) knows what to fix before opening the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import IntEnum

_logger = logging.getLogger("secretless_app")


class ExitCode(IntEnum):
    UNEXPECTED = 1  # a bug or an SDK error this app does not recognise
    CONFIGURATION = 2  # KEY_VAULT_URL or PORT wrong, a required setting missing or invalid
    NO_CREDENTIAL = 3  # no identity could get a token (or Entra ID / Key Vault refused it)
    FORBIDDEN = 4  # the identity may not read a secret (403)
    VAULT_NOT_FOUND = 5  # the vault's name does not resolve, or the host is not that vault
    VAULT_UNAVAILABLE = 6  # throttling, 5xx, timeouts or connection errors outlasted the retries


class FatalStartupError(Exception):
    """Stops the process: logged as one line, then the process exits with `exit_code`.

    `fields` are extra keys for the JSON log line (never a secret value). `until_granted` marks
    a failure a role assignment that is still taking effect would explain: at startup the app
    waits out its grace before it stops for it (web.py).
    """

    def __init__(
        self,
        exit_code: ExitCode,
        message: str,
        fields: Mapping[str, str] | None = None,
        *,
        until_granted: bool = False,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})
        self.until_granted = until_granted


def report(failure: FatalStartupError) -> None:
    """The one log line a failure gets, with its exit code as a field."""
    _logger.error(failure.message, extra={**failure.fields, "exit_code": int(failure.exit_code)})
