"""The endpoints and the background load, with the loader replaced by test functions."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.settings import AppSettings, GreetingSettings, IdentitySettings
from secretless_app.settings_loader import LoadedSettings, SettingSource
from secretless_app.web import create_app
from tests.fake_time import FakeTime

SECRET = "value-that-never-leaves"
GREETING = "greeting-that-never-leaves"
WAIT_SECONDS = 10
LOADED = LoadedSettings(
    AppSettings(
        Identity=IdentitySettings(Secret=SecretStr(SECRET)),
        Greeting=GreetingSettings(Message=GREETING),
    ),
    (
        SettingSource("identity.secret", "Identity--Secret"),
        SettingSource("greeting.message", "Greeting--Message"),
    ),
)


def _wait_ready(client: TestClient) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.01)


def _never_fatal(failure: FatalStartupError) -> None:
    raise AssertionError(f"unexpected fatal failure: {failure.message}")


def test_healthz_answers_while_loading_and_readyz_turns_200_once_loaded() -> None:
    release = threading.Event()

    def load() -> LoadedSettings[Any]:
        release.wait(WAIT_SECONDS)
        return LOADED

    with TestClient(create_app(load, _never_fatal)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert client.get("/config").status_code == 503
        release.set()
        _wait_ready(client)
        assert client.get("/healthz").json() == {"status": "ok"}


def test_config_lists_keys_and_sources_and_never_a_value() -> None:
    with TestClient(create_app(lambda: LOADED, _never_fatal)) as client:
        _wait_ready(client)
        response = client.get("/config")
    assert response.json() == {
        "settings": [
            {"key": "identity.secret", "source": "Identity--Secret", "version": None, "readAt": ""},
            {
                "key": "greeting.message",
                "source": "Greeting--Message",
                "version": None,
                "readAt": "",
            },
        ]
    }
    assert SECRET not in response.text and GREETING not in response.text


def test_loaded_settings_are_on_the_app_state_for_the_teams_handlers() -> None:
    app = create_app(lambda: LOADED, _never_fatal)
    with TestClient(app) as client:
        _wait_ready(client)
    assert app.state.settings.loaded is LOADED


def _fatal_from(load: Any) -> FatalStartupError:
    stopped: list[FatalStartupError] = []
    done = threading.Event()

    def on_fatal(failure: FatalStartupError) -> None:
        stopped.append(failure)
        done.set()

    with TestClient(create_app(load, on_fatal)) as client:
        assert done.wait(WAIT_SECONDS)
        assert client.get("/readyz").status_code == 503
    (failure,) = stopped
    return failure


def test_a_failed_load_logs_one_line_and_stops_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forbidden = FatalStartupError(ExitCode.FORBIDDEN, "may not read", {"secret_name": "A--B"})

    def load() -> LoadedSettings[Any]:
        raise forbidden

    with caplog.at_level(logging.INFO):
        assert _fatal_from(load) is forbidden
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [
        (r.getMessage(), r.__dict__["exit_code"], r.__dict__["secret_name"]) for r in errors
    ] == [("may not read", 4, "A--B")]


def test_a_bug_in_loading_is_unexpected_and_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def load() -> LoadedSettings[Any]:
        raise KeyError("oops")

    failure = _fatal_from(load)
    assert failure.exit_code is ExitCode.UNEXPECTED
    assert failure.message == "unexpected KeyError while loading settings: 'oops'"
    (error,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert error.exc_info is not None


def _role_not_yet(message: str = "client id c may not read secret Identity--Secret") -> Any:
    return FatalStartupError(ExitCode.FORBIDDEN, message, until_granted=True)


def test_a_403_a_role_assignment_may_resolve_is_retried_with_backoff_and_readyz_says_why() -> None:
    fake = FakeTime()
    attempts: list[float] = []
    release = threading.Event()

    def load() -> LoadedSettings[Any]:
        attempts.append(fake.now)
        if len(attempts) < 4:
            raise _role_not_yet()
        release.wait(WAIT_SECONDS)  # holds the app unready while the test looks at /readyz
        return LOADED

    app = create_app(
        load, _never_fatal, forbidden_grace_seconds=600, clock=fake.clock, sleep=fake.sleep
    )
    with TestClient(app) as client:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(attempts) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json() == {
            "status": "waiting for a role assignment",
            "reason": "client id c may not read secret Identity--Secret",
        }
        release.set()
        _wait_ready(client)
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_when_the_grace_runs_out_the_403_is_fatal_with_its_own_message() -> None:
    fake = FakeTime()
    fatal: list[FatalStartupError] = []
    stopped = threading.Event()

    def on_fatal(failure: FatalStartupError) -> None:
        fatal.append(failure)
        stopped.set()

    def load() -> LoadedSettings[Any]:
        raise _role_not_yet()

    app = create_app(load, on_fatal, forbidden_grace_seconds=40, clock=fake.clock, sleep=fake.sleep)
    with TestClient(app):
        assert stopped.wait(WAIT_SECONDS)
    assert [f.exit_code for f in fatal] == [ExitCode.FORBIDDEN]
    # 1 + 2 + 4 + 8 + 16, then the 9 s left: the last try is at the grace's end.
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 9.0]


@pytest.mark.parametrize("grace", [0, 600])
def test_other_failures_and_a_zero_grace_stop_at_once(grace: int) -> None:
    fake = FakeTime()
    fatal: list[FatalStartupError] = []
    stopped = threading.Event()
    # A firewall's 403 is no role waiting to apply (vault_errors.py): no until_granted.
    firewall = FatalStartupError(ExitCode.FORBIDDEN, "firewall", until_granted=False)

    def load() -> LoadedSettings[Any]:
        raise firewall if grace else _role_not_yet()

    def on_fatal(failure: FatalStartupError) -> None:
        fatal.append(failure)
        stopped.set()

    app = create_app(
        load, on_fatal, forbidden_grace_seconds=grace, clock=fake.clock, sleep=fake.sleep
    )
    with TestClient(app):
        assert stopped.wait(WAIT_SECONDS)
    assert len(fatal) == 1 and fake.sleeps == []
