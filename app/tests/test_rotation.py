"""A rotated secret reaches the running process without a restart (SECRET_REFRESH_SECONDS), a
failed refresh keeps the last good values until SECRET_MAX_STALENESS_SECONDS, and /config shows
versions, never values: against the loopback double, and with the loader replaced."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from starlette.testclient import TestClient

from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.settings import AppSettings, IdentitySettings
from secretless_app.settings_loader import LoadedSettings, SettingSource
from secretless_app.web import create_app
from tests.app_process import AppProcess, base_environment, workload_identity_environment
from tests.azure_double import AzureDouble, version_of
from tests.fake_time import FakeTime

FIRST, ROTATED = "first-value-of-the-secret", "rotated-value-of-the-secret"
WAIT_SECONDS = 15


def poll(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never {what}")


def refreshing_app(workdir: Path, double: AzureDouble, **settings: str) -> AppProcess:
    """The app with workload identity and a secret of FIRST, with `settings` set."""
    double.script.secrets = {"Identity--Secret": FIRST}
    environment = base_environment(workdir, double)
    environment |= workload_identity_environment(workdir, double)
    return AppProcess(environment | settings, workdir / "app.log")


def secret_version(app: AppProcess) -> str | None:
    settings = app.get("/config").body["settings"]
    return next(s["version"] for s in settings if s["key"] == "identity.secret")


def test_a_new_version_is_picked_up_within_one_interval_without_a_restart(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        app = refreshing_app(tmp_path, double, SECRET_REFRESH_SECONDS="1")
        try:
            app.wait_ready()
            pid = app.process.pid
            assert secret_version(app) == version_of(FIRST)
            double.script.secrets = {"Identity--Secret": ROTATED}
            poll(lambda: secret_version(app) == version_of(ROTATED), "picked up the new version")
            assert app.process.poll() is None and app.process.pid == pid
            assert app.get("/readyz").status == 200
        finally:
            app.close()
    refreshed = [r for r in app.log_records() if r["message"] == "settings refreshed"]
    assert refreshed[0]["changed"] == "identity.secret"
    log = app.log_text()
    assert FIRST not in log and ROTATED not in log


def test_a_refresh_that_gets_403_keeps_the_old_value_and_stays_ready_until_stale(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        app = refreshing_app(
            tmp_path, double, SECRET_REFRESH_SECONDS="1", SECRET_MAX_STALENESS_SECONDS="4"
        )
        try:
            app.wait_ready()
            double.script.forbidden = {"Identity--Secret"}  # the grant was removed
            poll(lambda: "settings refresh failed" in app.log_text(), "logged the failed refresh")
            # The last good value is still served, and the app still ready.
            assert app.get("/readyz").status == 200
            assert secret_version(app) == version_of(FIRST)
            stale = poll(
                lambda: (answer := app.get("/readyz")).status == 503 and answer, "went stale"
            )
            assert stale.body["status"] == "settings stale"
            assert "may not read secret Identity--Secret" in stale.body["reason"]
            assert app.process.poll() is None  # never fatal
        finally:
            app.close()
    failures = [r for r in app.log_records() if r["message"].startswith("settings refresh failed")]
    assert failures and all(r["level"] == "WARNING" for r in failures)
    assert FIRST not in app.log_text()


LOADED = LoadedSettings(
    AppSettings(Identity=IdentitySettings(Secret=SecretStr(FIRST))),
    (SettingSource("identity.secret", "Identity--Secret", "v1"),),
    "2026-12-06T00:00:00+00:00",
)


def test_a_refresh_that_gets_5xx_keeps_the_old_values_until_the_staleness_limit() -> None:
    fake = FakeTime()
    ticks = threading.Semaphore(0)
    refreshed = threading.Event()
    attempts: list[float] = []

    def wait(seconds: float) -> None:
        ticks.acquire()  # the test says when the next refresh runs
        fake.now += seconds

    def load() -> LoadedSettings[Any]:
        attempts.append(fake.now)
        if len(attempts) == 1:
            return LOADED
        refreshed.set()
        raise FatalStartupError(ExitCode.VAULT_UNAVAILABLE, "Key Vault answered 503 five times")

    app = create_app(
        load,
        lambda _failure: None,
        refresh_seconds=300,
        max_staleness_seconds=900,
        clock=fake.clock,
        refresh_wait=wait,
    )
    with TestClient(app) as client:
        poll(lambda: client.get("/readyz").status_code == 200, "ready")
        for expected in (1, 2, 3):  # 300, 600, 900 s: still within the limit
            refreshed.clear()
            ticks.release()
            poll(refreshed.is_set, f"refreshed {expected} times")
            time.sleep(0.05)
            assert client.get("/readyz").status_code == 200
            assert client.get("/config").json()["settings"][0]["version"] == "v1"
        refreshed.clear()
        ticks.release()  # 1200 s: older than the limit
        poll(refreshed.is_set, "refreshed a fourth time")
        stale = poll(
            lambda: (
                (answer := client.get("/readyz")).status_code == 503
                and "five times" in answer.text
                and answer
            ),
            "went stale with the reason",
        )
        assert stale.json() == {
            "status": "settings stale",
            "reason": "the last good read is 1200 s old: Key Vault answered 503 five times",
        }
        ticks.release()  # let the thread go on; it is a daemon
