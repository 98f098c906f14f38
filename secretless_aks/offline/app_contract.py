"""What the sample app's tests run it with: the dev stack's Deployment of it, as rendered, and
what its identity is granted and what the stack seeds in the vault.

    python -m secretless_aks.offline.app_contract      (make app-contract)

writes app/tests/fixtures/dev-deployment.json. The app's tests start the app with exactly the
environment and probes that Deployment renders, against a test double that grants exactly
these secrets; tests/test_sample_app.py fails when the file is not what the dev stack renders
now, so neither side can change without the other noticing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from secretless_aks import verify
from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph, run_program
from secretless_aks.offline.render_manifests import kubernetes_objects, verifier_jobs

CONTRACT_FILE = PROJECT_DIR / "app" / "tests" / "fixtures" / "dev-deployment.json"
STACK = "dev"
SERVICE = "my-great-service"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SECRET = "azure-native:keyvault:Secret"


def app_contract(graph: RecordedGraph, service: str = SERVICE) -> dict[str, Any]:
    """The service's Deployment and ServiceAccount (whose annotations the workload-identity
    webhook reads), the secrets its identity holds a Key Vault role on (None for the whole
    vault), the secrets the stack seeds, the stack outputs a local run reads
    (`make -C app run`: the vault's URI and the service's grants), and the verifier's Job for
    it (`python -m secretless_aks.verify`, which runs the app's verify mode)."""
    objects = kubernetes_objects(graph)
    deployment, account = (
        next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == service)
        for kind in ("Deployment", "ServiceAccount")
    )
    (vault,) = graph.by_type("azure-native:keyvault:Vault")
    principal = graph.named(f"svc-{service}-identity").outputs["principalId"]
    granted: list[str] | None = []
    for assignment in graph.by_type(ROLE_ASSIGNMENT):
        scope = assignment.inputs["scope"]
        if assignment.inputs["principalId"] != principal or not scope.startswith(
            vault.outputs["id"]
        ):
            continue
        if scope == vault.outputs["id"]:
            granted = None  # vault-wide
            break
        granted.append(scope.rsplit("/secrets/", 1)[1])
    return {
        "stack": graph.stack,
        "deployment": deployment,
        "serviceAccount": account,
        "grantedSecrets": sorted(granted) if granted is not None else None,
        "seededSecrets": sorted(secret.inputs["secretName"] for secret in graph.by_type(SECRET)),
        "stackOutputs": {
            name: graph.outputs[name] for name in ("keyVaultUri", "services", "serviceGrants")
        },
        "verifierJob": next(
            job
            for job in verifier_jobs(graph, verify.stack_config(graph.stack))
            if job["metadata"]["labels"]["app.kubernetes.io/instance"] == service
        ),
    }


def render(graph: RecordedGraph) -> str:
    return json.dumps(app_contract(graph), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0]) if argv else CONTRACT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(run_program(STACK)))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
