"""The real app, started as `python -m secretless_app` in a subprocess, and ways to observe it.

The child gets a built environment, not the test runner's: only what a pod would have, plus the
test double's CA bundle. HOME is an empty directory, so no developer login (Azure CLI and the
like) can stand in for the pod's identity.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.azure_double import TENANT_ID, AzureDouble, free_port

APP_DIR = Path(__file__).resolve().parent.parent
READY_DEADLINE_SECONDS = 20
EXIT_DEADLINE_SECONDS = 20
POLL_INTERVAL_SECONDS = 0.05
# The probes go straight to the loopback address, whatever proxy the runner's shell names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    text: str


def base_environment(workdir: Path, double: AzureDouble | None) -> dict[str, str]:
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    environment = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",  # as in the image, whose root filesystem is read-only
        "PORT": str(free_port()),
    }
    if double is not None:
        environment |= {
            "KEY_VAULT_URL": double.url,
            "SSL_CERT_FILE": str(double.ca_bundle),
            "REQUESTS_CA_BUNDLE": str(double.ca_bundle),
            # Without it, a managed-identity attempt would go to 169.254.169.254, off this
            # machine; with it, every attempt stays on the loopback double.
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": double.url,
        }
    return environment


def workload_identity_environment(workdir: Path, double: AzureDouble) -> dict[str, str]:
    """The four variables the workload-identity webhook injects, pointing at the double."""
    token_file = workdir / "azure-identity-token"
    token_file.write_text(FEDERATED_TOKEN)
    return {
        "AZURE_CLIENT_ID": WORKLOAD_CLIENT_ID,
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_AUTHORITY_HOST": double.url,
    }


WORKLOAD_CLIENT_ID = "5e3a9c1d-0000-4000-8000-00000000c11d"
# Shaped like the projected service-account token (a JWT) the kubelet writes into the pod.
FEDERATED_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QtZG91YmxlIn0"
    ".eyJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXSwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50"
    "Om9yZGVyczpvcmRlcnMifQ.c2lnbmF0dXJlLW9mLXRoZS10ZXN0LWRvdWJsZQ"
)


class AppProcess:
    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.port = int(environment["PORT"])
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "secretless_app"],
            cwd=APP_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str) -> Response:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        try:
            with _OPENER.open(request, timeout=5) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        text = raw.decode()
        return Response(status, json.loads(text) if text else None, text)

    def wait_ready(self) -> None:
        """Polls /readyz until 200; fails at once if the process exits first."""
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the app exited with {self.process.returncode} before it was ready:\n"
                    + self.log_text()
                )
            if self._answers("/readyz") == 200:
                return
            time.sleep(POLL_INTERVAL_SECONDS)
        raise AssertionError(f"not ready in {READY_DEADLINE_SECONDS} s:\n{self.log_text()}")

    def wait_listening(self) -> None:
        """Polls /healthz until the server answers at all."""
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited early:\n{self.log_text()}")
            if self._answers("/healthz") is not None:
                return
            time.sleep(POLL_INTERVAL_SECONDS)
        raise AssertionError(f"never answered /healthz:\n{self.log_text()}")

    def wait_exit(self) -> int:
        try:
            return self.process.wait(timeout=EXIT_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(
                f"still running after {EXIT_DEADLINE_SECONDS} s:\n{self.log_text()}"
            ) from None

    def stop(self) -> int:
        """SIGTERM, as the kubelet sends, then the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=EXIT_DEADLINE_SECONDS)
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text()

    def log_records(self) -> list[dict[str, Any]]:
        """Every line parsed as JSON; a line that is not one JSON object fails the test."""
        records: list[dict[str, Any]] = []
        for line in self.log_text().splitlines():
            record = json.loads(line)
            assert isinstance(record, dict), line
            records.append(record)
        return records

    def _answers(self, path: str) -> int | None:
        try:
            return self.get(path).status
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None


def run_verify(environment: dict[str, str]) -> tuple[int, list[dict[str, str]], str]:
    """`python -m secretless_app verify` in `environment`: its exit code, its steps, its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "secretless_app", "verify"],
        cwd=APP_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stdout
