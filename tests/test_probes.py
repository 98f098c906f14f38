"""A service's probes: opt-in, rendered on its port, refused without one."""

from __future__ import annotations

from typing import Any

import pytest

from secretless_aks.offline.harness import run_program
from tests.stack_configs import stack_config
from tests.test_config import rejected

IMAGE = "ghcr.io/contoso/orders:1.0.0"


def container(config: dict[str, Any]) -> dict[str, Any]:
    graph = run_program("dev", config=config)
    (only,) = graph.named("svc-orders-deployment").inputs["spec"]["template"]["spec"]["containers"]
    return only


def test_without_probes_nothing_is_rendered_and_the_await_keeps_its_default() -> None:
    config = stack_config(services=[{"name": "orders", "image": IMAGE, "port": 8080}])
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(container(config))
    graph = run_program("dev", config=config)
    assert "customTimeouts" not in graph.named("svc-orders-deployment").options


def test_paths_and_timings_can_be_overridden() -> None:
    probes = {
        "readinessPath": "/ready",
        "livenessPath": "/live",
        "periodSeconds": 5,
        "failureThreshold": 2,
        "startupBudgetSeconds": 61,
    }
    service = {"name": "orders", "image": IMAGE, "port": 8080, "probes": probes}
    rendered = container(stack_config(services=[service]))
    assert rendered["startupProbe"] == {
        "httpGet": {"path": "/ready", "port": "http"},
        "periodSeconds": 5,
        "failureThreshold": 13,  # 61 s in 5 s periods, rounded up: never less than the budget
    }
    assert rendered["readinessProbe"]["failureThreshold"] == 2
    assert rendered["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    graph = run_program("dev", config=stack_config(services=[service]))
    assert graph.named("svc-orders-deployment").options["customTimeouts"] == {
        "create": "361s",
        "update": "361s",
    }


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({"image": IMAGE, "probes": {}}, "services[0].probes: needs a port"),
        ({"image": IMAGE, "port": 80, "probes": {"readinessPath": "ready"}}, "readinessPath"),
        ({"image": IMAGE, "port": 80, "probes": {"livenessPath": "/a b"}}, "livenessPath"),
        ({"image": IMAGE, "port": 80, "probes": {"startupBudgetSeconds": 5}}, "startupBudget"),
        ({"image": IMAGE, "port": 80, "probes": {"path": "/x"}}, "probes.path"),
    ],
)
def test_probes_that_cannot_work_are_refused_naming_the_key(
    service: dict[str, Any], message: str
) -> None:
    error = rejected(stack_config(services=[{"name": "orders", **service}]))
    assert message in error
