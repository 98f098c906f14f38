"""The raw-SDK baseline: the program's custom resources, registered with the providers' typed
classes and nothing else: no components, no Output chains, no config.

It is generated from the program's own recorded graph for the same stack configuration, so
the two cannot drift: each custom resource the program declares is constructed once, in the
program's order, with the inputs the program sent as plain values (a secret stays a secret),
the provider it named and the resources it depended on (as `depends_on`: the engine receives
the same graph). It runs as a project of its own (`write_project`), through the same harness,
mocks and stack file as the program: what is left is the SDK's own cost for those resources
(input types, aliases, Outputs for every output property, serialization, the registration round
trip), and what the program adds is everything else.

The tree baseline (`tree=True`) also registers the program's components, as empty
ComponentResources with the same parents, and each resource under its own parent: the SDK's
cost of that tree (a registration per component, and, for each type alias of a child, its
parent's URN to resolve) is then the baseline's too, and what is left is the program's own.
"""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, cast

import pulumi
from pulumi import _types

from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph, Secret, run_program

# A secret in a saved graph: {"$secret": value} (no input of the program has that key).
SECRET_KEY = "$secret"
# Inputs the SDK fills in when they are None (a RoleAssignment's principalType becomes "User");
# where the program left one out, it passed a known-None Output, and so does the baseline.
SDK_DEFAULTS = {"azure-native:authorization:RoleAssignment": ("principalType",)}
# Inputs the generated constructors rename, as they clash with their own parameters.
RENAMED = {"resource_name": "resource_name_", "opts": "opts_"}


def registered_resources(graph: RecordedGraph) -> list[dict[str, Any]]:
    """What the baseline registers, as JSON: each resource the program created (reads left
    out), in program order, with its type, name, whether it is custom, parent, provider,
    dependencies and inputs."""
    return [
        {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "custom": resource.custom,
            "parent": resource.parent,
            "provider": resource.provider,
            "dependencies": list(resource.dependencies),
            "inputs": _to_json(resource.inputs),
        }
        for resource in graph.resources
        if not resource.read
    ]


def _to_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return {SECRET_KEY: _to_json(value.value)}
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    return value


def _to_input(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {SECRET_KEY}:
            return pulumi.Output.secret(_to_input(value[SECRET_KEY]))
        return {key: _to_input(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_input(item) for item in value]
    return value


# The program's dynamic resources (no SDK class registers them), by token.
DYNAMIC = {
    "pulumi-python:dynamic/rbac:PropagationWait": (
        "secretless_aks.components.propagation_wait",
        "PropagationWait",
    ),
    "pulumi-python:dynamic/contract:Publication": (
        "secretless_aks.components.contract_publication",
        "ContractPublication",
    ),
}
# The input a dynamic resource's constructor adds itself: its pickled provider.
DYNAMIC_PROVIDER_INPUT = "__provider"


@cache
def sdk_class(token: str) -> tuple[Callable[..., pulumi.CustomResource], type | None]:
    """The typed SDK class that registers `token`, and its arguments class (None for a
    Kubernetes custom resource or a dynamic resource, which take their fields as keywords)."""
    package, module, name = token.split(":")
    if package == "pulumi" and module == "providers":
        found = importlib.import_module(f"pulumi_{name.replace('-', '_')}").Provider
    elif package == "azure-native":
        found = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    elif package == "random":
        found = getattr(importlib.import_module("pulumi_random"), name)
    elif package == "kubernetes":
        # "networking.k8s.io/v1" -> pulumi_kubernetes.networking.v1; a kind no module has is a
        # custom resource (AAD Pod Identity's).
        group, version = module.split("/")
        try:
            typed = importlib.import_module(f"pulumi_kubernetes.{group.split('.')[0]}.{version}")
            found = getattr(typed, name)
        except (ImportError, AttributeError):
            return importlib.import_module("pulumi_kubernetes").apiextensions.CustomResource, None
    elif token in DYNAMIC:
        # No SDK has it: the project's own class, whose keywords are its inputs.
        module_name, class_name = DYNAMIC[token]
        return getattr(importlib.import_module(module_name), class_name), None
    else:
        raise ValueError(f"no SDK class known for {token}")
    # `<Name>InitArgs` where a nested input type took `<Name>Args` (azure-native's Subnet).
    defined, name = importlib.import_module(found.__module__), found.__name__
    args = getattr(defined, f"{name}InitArgs", None) or getattr(defined, f"{name}Args")
    return found, args


def register(resources: list[dict[str, Any]], *, tree: bool = False) -> None:
    """Construct each custom resource with its typed class, and with `tree` each component
    too, under the parents the program gave them: the baseline program."""
    created: dict[str, pulumi.Resource] = {}
    for resource in resources:
        # Absent from `created`: the stack, which is the default parent.
        parent = created.get(resource["parent"]) if tree else None
        if not resource["custom"]:
            if tree:
                component = pulumi.ComponentResource(
                    resource["type"], resource["name"], None, pulumi.ResourceOptions(parent=parent)
                )
                component.register_outputs({})
                created[resource["urn"]] = component
            continue
        cls, args = sdk_class(resource["type"])
        inputs = _to_input(resource["inputs"])
        for key in SDK_DEFAULTS.get(resource["type"], ()):
            inputs.setdefault(key, pulumi.Output.from_input(None))
        provider = created[resource["provider"]] if resource["provider"] else None
        opts = pulumi.ResourceOptions(
            parent=parent,
            provider=cast(pulumi.ProviderResource | None, provider),
            depends_on=[created[urn] for urn in resource["dependencies"]],
        )
        if resource["type"] in DYNAMIC:
            inputs.pop(DYNAMIC_PROVIDER_INPUT, None)
            created[resource["urn"]] = cls(resource["name"], opts=opts, **inputs)
        elif args is None:
            created[resource["urn"]] = cls(
                resource["name"],
                api_version=inputs.pop("apiVersion"),
                kind=inputs.pop("kind"),
                opts=opts,
                **inputs,
            )
        else:
            keywords = _keywords(args)
            created[resource["urn"]] = cls(
                resource["name"],
                opts=opts,
                **{keywords[key]: value for key, value in inputs.items()},
            )


@cache
def _keywords(args: type) -> Mapping[str, str]:
    """Wire name -> the constructor's keyword (`resourceName` -> `resource_name_`)."""
    return {
        wire: RENAMED.get(python, python)
        for python, wire in _types.input_type_py_to_pulumi_names(args).items()
    }


# The baseline's program; with the program's collector settings, it sets them first as
# __main__.py does.
MAIN = """\"\"\"The raw-SDK baseline for the resources in graph.json (bench/baseline.py).\"\"\"

import json
from pathlib import Path

from bench import baseline
from secretless_aks.components import collector

{collector}baseline.register(
    json.loads((Path(__file__).parent / "graph.json").read_text()), tree={tree}
)
"""


def write_project(
    graph: Path, directory: Path, *, program_collector: bool, tree: bool = False
) -> Path:
    """A project in `directory` whose program registers `graph` (saved `registered_resources`),
    with Python's default collector or the program's settings, with or without the program's
    components (`tree`); the project file is the platform's, so the harness takes the same
    stack configuration."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", directory / "Pulumi.yaml")
    shutil.copy(graph, directory / "graph.json")
    settings = "collector.configure()\n\n" if program_collector else ""
    (directory / "__main__.py").write_text(MAIN.format(collector=settings, tree=tree))
    return directory


def run(
    graph: RecordedGraph, config: Mapping[str, Any], directory: Path, *, tree: bool
) -> RecordedGraph:
    """The baseline of the program's `graph`, with the program's collector settings, written
    as a project in `directory` and run by the harness with the stack config the program had."""
    saved = directory / "graph.json"
    directory.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(registered_resources(graph)))
    project = write_project(saved, directory / "project", program_collector=True, tree=tree)
    return run_program(graph.stack, config=config, project_dir=project, provider_aliases=True)
