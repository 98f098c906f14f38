"""Write the Kubernetes objects a stack declares as YAML files, for checkov and for review.

    python -m secretless_aks.offline.render_manifests --out build/manifests \
        dev prod tests/stacks/Pulumi.rich.yaml

Each argument is a stack of this project (its Pulumi.<stack>.yaml) or the path of a stack file
elsewhere. The program runs as `pulumi up` would, under the mocks, so every value is filled in;
secrets print as [secret]. A stack with services gets a second file, <stack>.verify.yaml: the
Jobs `python -m secretless_aks.verify` runs for them after a deploy. A Helm release is not a
Kubernetes object (the chart renders those in the cluster) and is left out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from secretless_aks import verify
from secretless_aks.components.config import StackConfig
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    RecordedGraph,
    Secret,
    read_stack_file,
    run_program,
)
from secretless_aks.offline.stack_file import read_config

NOT_AN_OBJECT = ("kubernetes:helm.sh/",)


def kubernetes_objects(graph: RecordedGraph) -> list[dict[str, Any]]:
    """Each Kubernetes object's manifest, in program order."""
    return [
        _shown(dict(r.inputs))
        for r in graph.resources
        if r.type.startswith("kubernetes:") and not r.type.startswith(NOT_AN_OBJECT)
    ]


def _shown(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return value


def verifier_jobs(graph: RecordedGraph, config: StackConfig) -> list[dict[str, Any]]:
    """The Jobs `python -m secretless_aks.verify` runs on the deployed stack, one per service."""
    found = verify.stack_checks(
        config, graph.outputs, image=None, budget_seconds=verify.DEFAULT_BUDGET_SECONDS
    )
    return [check.job for check in found]


def render(stack: str, out: Path, project_dir: Path = PROJECT_DIR) -> Path:
    """Write `stack`'s objects to `out/<stack>.yaml`, and the verifier's Jobs for it to
    `out/<stack>.verify.yaml` when it has services; return the first path."""
    path = Path(stack)
    if path.suffix == ".yaml" and path.is_file():
        name = path.stem.removeprefix("Pulumi.")
        written = read_config(path)
    else:
        name = stack
        written = read_stack_file(stack, project_dir)
    graph = run_program(name, config=written, project_dir=project_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.yaml"
    target.write_text(yaml.safe_dump_all(kubernetes_objects(graph), sort_keys=False))
    jobs = verifier_jobs(graph, verify.stack_config(name, project_dir, written))
    if jobs:
        (out / f"{name}.verify.yaml").write_text(yaml.safe_dump_all(jobs, sort_keys=False))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secretless_aks.offline.render_manifests", description=__doc__
    )
    parser.add_argument("--out", type=Path, required=True, help="the directory to write to")
    parser.add_argument("stacks", nargs="+", help="stack names or stack file paths")
    args = parser.parse_args(argv)
    for stack in args.stacks:
        print(f"wrote {render(stack, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
