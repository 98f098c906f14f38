"""`python -m secretless_app`: read the environment, then serve while settings load.

Exit codes (failures.ExitCode): 2 configuration, 3 no credential, 4 forbidden (after
STARTUP_FORBIDDEN_GRACE_SECONDS, default 600, of waiting for a role assignment), 5 vault not
found, 6 vault unavailable after retries, 1 anything unexpected. On SIGTERM uvicorn shuts down
gracefully and then ends the process by that signal. `python -m secretless_app verify` runs the
one-shot identity check instead (verify.py; 7 when a step fails).
"""

from __future__ import annotations

import os
import sys

import uvicorn

from .app_configuration import AppConfiguration
from .blob_container import create_container_check
from .environment import read_environment
from .failures import FatalStartupError, report
from .json_logging import SecretRedactor, configure_logging
from .key_vault import create_credential, create_secret_client
from .settings import AppSettings
from .settings_loader import load_settings
from .web import create_app

# In a pod the kubelet's probes and the Service reach the container on the pod's own IP.
LISTEN_HOST = "0.0.0.0"  # noqa: S104


def main() -> int:
    redactor = SecretRedactor()
    configure_logging(redactor, sys.stderr)
    try:
        environment = read_environment(os.environ)
    except FatalStartupError as failure:
        report(failure)
        return failure.exit_code

    fatal: list[FatalStartupError] = []
    with (
        create_credential() as credential,
        create_secret_client(environment.key_vault_url, credential) as client,
    ):

        def stop(failure: FatalStartupError) -> None:
            fatal.append(failure)
            server.should_exit = True  # uvicorn's main loop checks it ten times a second

        store = (
            AppConfiguration(
                environment.app_configuration_endpoint,
                environment.app_configuration_label,
                credential,
                environment.identity_name,
            )
            if environment.app_configuration_endpoint
            else None
        )
        app = create_app(
            load=lambda: load_settings(AppSettings, client, environment, redactor, store),
            on_fatal=stop,
            container_check=create_container_check(environment.blob_container_url, credential)
            if environment.blob_container_url
            else None,
            forbidden_grace_seconds=environment.forbidden_grace_seconds,
            refresh_seconds=environment.refresh_seconds,
            max_staleness_seconds=environment.max_staleness_seconds,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=LISTEN_HOST,
                port=environment.port,
                log_config=None,  # keep the JSON handler configure_logging installed
                access_log=False,  # probes every few seconds would bury the app's own lines
                lifespan="on",
            )
        )
        server.run()
    return fatal[0].exit_code if fatal else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["verify"]:
        from .verify import main as verify_main

        sys.exit(verify_main())
    sys.exit(main())
