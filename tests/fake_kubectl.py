"""A stand-in for kubectl against a cluster whose verifier Jobs end as a test scripts them: the
verifier's calls (delete, create, get job, get pods, logs) are answered from a state file, and
every call is recorded.

In-process (`FakeCluster(path).run` as verify.Kubectl's runner), or as an executable on PATH
(`install(bin_dir, state_file)`), for the whole command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# How a scripted Job ends: its logs (the app's JSON lines), its state, and its pod's story.
Script = dict[str, Any]


def passing(*results: str) -> Script:
    steps = ("token", "allowed read", "denied read")
    return {
        "state": "succeeded",
        "logs": [
            {"step": step, "result": result} for step, result in zip(steps, results, strict=False)
        ],
    }


class FakeCluster:
    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file

    def script(self, jobs: dict[str, Script]) -> None:
        self._save({"scripts": jobs, "jobs": {}, "calls": [], "gets": {}})

    @property
    def state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    @property
    def calls(self) -> list[list[str]]:
        return list(self.state["calls"])

    def created(self) -> list[dict[str, Any]]:
        return [
            json.loads(stdin)
            for args, stdin in self.state.get("stdin", [])
            if args[:1] == ["create"]
        ]

    def _save(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state))

    def run(self, command: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        """As verify.Kubectl's runner: (exit code, stdout, stderr)."""
        args = list(command[command.index("--kubeconfig") + 2 :])
        state = self.state
        state["calls"].append(args)
        state.setdefault("stdin", []).append([args, stdin])
        try:
            return (0, self._answer(state, args, stdin), "")
        except LookupError as error:
            return (1, "", f"Error from server (NotFound): {error}")
        finally:
            self._save(state)

    def _answer(self, state: dict[str, Any], args: list[str], stdin: str | None) -> str:
        verb = args[0]
        namespace = args[args.index("-n") + 1] if "-n" in args else "default"
        if verb == "create":
            job = json.loads(stdin or "{}")
            script = state["scripts"].get(job["metadata"]["name"])
            if script is not None and script.get("refuse"):
                raise LookupError(script["refuse"])
            metadata = job["metadata"]
            state["jobs"][f"{metadata['namespace']}/{metadata['name']}"] = job
            return f"job.batch/{job['metadata']['name']} created\n"
        if verb == "delete":
            state["jobs"].pop(f"{namespace}/{args[2]}", None)
            return ""
        if verb == "get" and args[1] == "job":
            return json.dumps({"status": self._status(state, args[2])})
        if verb == "get" and args[1] == "pods":
            name = args[args.index("-l") + 1].removeprefix("job-name=")
            return json.dumps({"items": self._pods(state, name)})
        if verb == "logs":
            name = args[1].removeprefix("job/")
            script = state["scripts"].get(name, {})
            if not script.get("logs"):
                raise LookupError(f'pods for job "{name}" not found')
            return "".join(json.dumps(line) + "\n" for line in script["logs"])
        raise LookupError(f"the fake does not know kubectl {' '.join(args)}")

    @staticmethod
    def _status(state: dict[str, Any], name: str) -> dict[str, Any]:
        script = state["scripts"].get(name, {"state": "running"})
        gets = state["gets"][name] = state["gets"].get(name, 0) + 1
        if script["state"] == "running" or gets <= script.get("running_for", 0):
            return {"active": 1}
        if script["state"] == "succeeded":
            return {"succeeded": 1}
        reason = script.get("reason", "BackoffLimitExceeded")
        message = script.get("message", "Job has reached the specified backoff limit")
        condition = {"type": "Failed", "status": "True", "reason": reason, "message": message}
        return {"failed": 1, "conditions": [condition]}

    @staticmethod
    def _pods(state: dict[str, Any], name: str) -> list[dict[str, Any]]:
        script = state["scripts"].get(name, {})
        waiting = script.get("waiting")
        if waiting is None:
            return [{"status": {"containerStatuses": [{"state": {"terminated": {}}}]}}]
        return [{"status": {"containerStatuses": [{"state": {"waiting": waiting}}]}}]


def install(bin_dir: Path, state_file: Path) -> None:
    """An executable `kubectl` in `bin_dir` that answers from `state_file`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    kubectl = bin_dir / "kubectl"
    root = Path(__file__).resolve().parent.parent
    kubectl.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from pathlib import Path\n"
        "from tests.fake_kubectl import FakeCluster\n"
        f"code, out, err = FakeCluster(Path({str(state_file)!r})).run(\n"
        '    sys.argv, sys.stdin.read() if "create" in sys.argv else None\n'
        ")\n"
        "sys.stdout.write(out)\n"
        "sys.stderr.write(err)\n"
        "sys.exit(code)\n"
    )
    kubectl.chmod(0o755)
