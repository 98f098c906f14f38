"""The hand-off from the program to the engine's dynamic provider host: it starts
`python -u -m pulumi.dynamic` in the project's directory (which `-m` puts first on sys.path),
unpickles a dynamic resource's `__provider` from state and calls it, in another process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from secretless_aks.offline.harness import PROJECT_DIR


def in_provider_host(serialized: Any, call: str) -> Any:
    """`call`, a Python expression over `provider` (unpickled from `serialized`, which must be
    in clear), run in a fresh process from the project's directory: what it gives, via JSON."""
    assert isinstance(serialized, str)  # in clear: no secret in it
    host = (
        "import base64, json, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        f"print(json.dumps([type(provider).__module__, {call}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", host, serialized],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)
