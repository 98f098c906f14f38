"""The HTTP endpoints, and the background load that decides when the app is ready.

Settings load in a thread started at startup, so /healthz answers while the SDK waits for a token
or retries, and /readyz stays 503 until every setting is in. A failed load is fatal: `on_fatal`
stops the server and the process exits with the failure's code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .failures import ExitCode, FatalStartupError, report
from .settings_loader import LoadedSettings

_logger = logging.getLogger(__name__)


class SettingsState:
    """Set once by the loading thread, read by request handlers."""

    def __init__(self) -> None:
        self.loaded: LoadedSettings[Any] | None = None


def create_app(
    load: Callable[[], LoadedSettings[Any]], on_fatal: Callable[[FatalStartupError], None]
) -> Starlette:
    state = SettingsState()

    def load_in_background() -> None:
        try:
            loaded = load()
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
        state.loaded = loaded
        _logger.info(
            "settings loaded",
            extra={"settings": ", ".join(f"{s.key} from {s.source}" for s in loaded.sources)},
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncGenerator[None]:
        # A daemon thread: a pod told to stop while the SDK is still retrying must not wait.
        threading.Thread(target=load_in_background, name="settings-loader", daemon=True).start()
        yield

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        if state.loaded is None:
            return JSONResponse({"status": "loading settings"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def config(_request: Request) -> JSONResponse:
        """Where each setting came from; never a value."""
        if state.loaded is None:
            return JSONResponse({"status": "loading settings"}, status_code=503)
        return JSONResponse(
            {"settings": [{"key": s.key, "source": s.source} for s in state.loaded.sources]}
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
