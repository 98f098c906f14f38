"""The HTTP endpoints, and the background load that decides when the app is ready.

Settings load in a thread started at startup, so /healthz answers while the SDK waits for a token
or retries, and /readyz stays 503 until every setting is in. A failed load is fatal: `on_fatal`
stops the server and the process exits with the failure's code. One failure waits first: a 403
that a role assignment still taking effect would explain (`until_granted`) is retried with
backoff for the startup grace, while /readyz says why it is not ready; when the grace runs out
it is fatal like the rest. With BLOB_CONTAINER_URL, /readyz also lists that container, and
answers 503 with the reason while it cannot (never fatal: a grant may still be taking effect).
With SECRET_REFRESH_SECONDS the same thread reads the settings again at that interval and swaps
them in whole; a failed refresh keeps the last good values, logs one line, and /readyz turns 503
only once they are older than SECRET_MAX_STALENESS_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .failures import ExitCode, FatalStartupError, report
from .settings_loader import LoadedSettings

_logger = logging.getLogger(__name__)

# Retries while a role assignment takes effect: 1 s, doubling, at most every 30 s.
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


class SettingsState:
    """Set by the loading thread (and each refresh), read by request handlers. A refresh
    replaces `loaded` whole, in one assignment: a handler sees the old settings or the new,
    never a mix."""

    def __init__(self) -> None:
        self.loaded: LoadedSettings[Any] | None = None
        self.waiting_for: str | None = None  # the 403 a role assignment may still resolve
        self.loaded_at = 0.0  # the clock's time of the last good read
        self.refresh_failure: str | None = None  # why the last refresh kept the old values


def create_app(
    load: Callable[[], LoadedSettings[Any]],
    on_fatal: Callable[[FatalStartupError], None],
    *,
    container_check: Callable[[], str | None] | None = None,
    forbidden_grace_seconds: float = 0,
    refresh_seconds: float = 0,
    max_staleness_seconds: float = 0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    refresh_wait: Callable[[float], None] = time.sleep,
) -> Starlette:
    """`refresh_seconds` (0: never): read the settings again that often; a failed refresh
    keeps the last good values, and /readyz turns 503 only once they are older than
    `max_staleness_seconds`."""
    state = SettingsState()

    def refresh_forever() -> None:
        while True:
            refresh_wait(refresh_seconds)
            try:
                fresh = load()
            except Exception as error:  # noqa: BLE001 - any failure keeps the old values
                message = error.message if isinstance(error, FatalStartupError) else repr(error)
                state.refresh_failure = message
                _logger.warning(
                    "settings refresh failed; keeping the last good values",
                    extra={"cause": message, "age_seconds": int(clock() - state.loaded_at)},
                )
                continue
            old = {s.key: s.version for s in state.loaded.sources} if state.loaded else {}
            changed = [s.key for s in fresh.sources if old.get(s.key) != s.version]
            state.loaded, state.loaded_at, state.refresh_failure = fresh, clock(), None
            if changed:
                _logger.info("settings refreshed", extra={"changed": ", ".join(changed)})

    def load_granted() -> LoadedSettings[Any]:
        deadline = clock() + forbidden_grace_seconds
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                return load()
            except FatalStartupError as failure:
                left = deadline - clock()
                if not failure.until_granted or left <= 0:
                    raise
                state.waiting_for = failure.message
                _logger.warning(
                    "waiting for a role assignment to take effect",
                    extra={**failure.fields, "cause": failure.message, "grace_left": int(left)},
                )
                sleep(min(delay, left))
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def load_in_background() -> None:
        try:
            loaded = load_granted()
        except FatalStartupError as failure:
            report(failure)
            on_fatal(failure)
            return
        except Exception as error:  # a bug must still stop the process, with one line
            failure = FatalStartupError(
                ExitCode.UNEXPECTED,
                f"unexpected {type(error).__name__} while loading settings: {error}",
            )
            # The traceback goes into the same JSON line, as its "exception" field.
            _logger.exception(failure.message, extra={"exit_code": int(failure.exit_code)})
            on_fatal(failure)
            return
        state.loaded, state.loaded_at = loaded, clock()
        _logger.info(
            "settings loaded",
            extra={"settings": ", ".join(f"{s.key} from {s.source}" for s in loaded.sources)},
        )
        if refresh_seconds > 0:
            refresh_forever()  # this thread's remaining work

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncGenerator[None]:
        # A daemon thread: a pod told to stop while the SDK is still retrying must not wait.
        threading.Thread(target=load_in_background, name="settings-loader", daemon=True).start()
        yield

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        if state.loaded is None and state.waiting_for is not None:
            waiting = {"status": "waiting for a role assignment", "reason": state.waiting_for}
            return JSONResponse(waiting, status_code=503)
        if state.loaded is None:
            return JSONResponse({"status": "loading settings"}, status_code=503)
        age = clock() - state.loaded_at
        if refresh_seconds > 0 and age > max_staleness_seconds:
            stale = {
                "status": "settings stale",
                "reason": f"the last good read is {int(age)} s old: {state.refresh_failure}",
            }
            return JSONResponse(stale, status_code=503)
        if container_check is not None:
            # Off the event loop: the check waits on Azure Storage.
            unlisted = await run_in_threadpool(container_check)
            if unlisted is not None:
                return JSONResponse(
                    {"status": "blob container not listable", "reason": unlisted},
                    status_code=503,
                )
        return JSONResponse({"status": "ready"})

    async def config(_request: Request) -> JSONResponse:
        """Where each setting came from; never a value."""
        if state.loaded is None:
            return JSONResponse({"status": "loading settings"}, status_code=503)
        loaded = state.loaded
        return JSONResponse(
            {
                "settings": [
                    {
                        "key": s.key,
                        "source": s.source,
                        "version": s.version,
                        "readAt": loaded.read_at,
                    }
                    for s in loaded.sources
                ]
            }
        )

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/config", config, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = state  # for the handlers an application team adds
    return app
