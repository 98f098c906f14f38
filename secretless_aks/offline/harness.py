"""Run the real program (`__main__.py`) under Pulumi's mocks and record the graph it declares.

Tests, the offline plan and anything else that needs to see what a stack would create use
`run_program`. A `RecordingMonitor` sees every RegisterResource/ReadResource/Invoke request
the program sends: type, name, parent, dependencies, property dependencies, provider,
options such as protect, and the inputs with secrets and unknowns marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import difflib
import gc
import hashlib
import json
import logging
import runpy
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pulumi
from google.protobuf import json_format
from pulumi.output import Unknown as SdkUnknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from secretless_aks.components import fast_yaml
from secretless_aks.offline.mocks import (
    CI_CONTRACT_URL_STAND_IN,
    CI_DEPLOYER_STAND_IN,
    CI_REGISTRY_STAND_IN,
    AzureMocks,
)
from secretless_aks.offline.stack_file import read_config

# The repository's root, where the platform program is (secretless_aks/offline/ -> root).
PROJECT_DIR = Path(__file__).resolve().parents[2]
PROJECT_NAME = "secretless-aks"


class _Unknown:
    """A value only Azure can know; a plan shows it as output<string>."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Secret:
    """An input the engine would encrypt in state; `value` is what the program passed."""

    value: Any


@dataclass(frozen=True)
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    provider: str | None
    protect: bool
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    # Read with `.get()` (an existing resource), not created.
    read: bool = False


@dataclass(frozen=True)
class RecordedInvoke:
    token: str
    args: Mapping[str, Any]


@dataclass
class RecordedGraph:
    stack: str
    preview: bool
    resources: list[RecordedResource]
    invokes: list[RecordedInvoke]
    project: str = PROJECT_NAME
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: frozenset[str] = frozenset()
    # The text the program got for each encrypted config value -> a digest of its ciphertext.
    secret_digests: Mapping[str, str] = field(default_factory=dict)
    # What the program logged with pulumi.log.warn, which `pulumi preview` prints as warnings.
    warnings: list[str] = field(default_factory=list)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            known = ", ".join(sorted(r.name for r in self.resources))
            raise KeyError(
                f"expected one resource named {name!r}, found {len(matches)}; known: {known}"
            )
        return matches[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def descendants(self, ancestor: RecordedResource) -> Iterator[RecordedResource]:
        for child in self.children(ancestor):
            yield child
            yield from self.descendants(child)


class ProgramFailedError(Exception):
    """The program raised; `graph` holds what it had registered by then."""

    def __init__(self, graph: RecordedGraph, error: BaseException) -> None:
        super().__init__(str(error))
        self.graph = graph
        self.error = error


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: AzureMocks) -> None:
        super().__init__(mocks)
        self.azure_mocks = mocks
        self.recorded: list[RecordedResource] = []
        self.invokes: list[RecordedInvoke] = []
        # (type, name) -> when the program constructed it; registrations arrive in the order
        # their inputs resolve, which is not the program's order.
        self._constructed: dict[tuple[str, str], deque[int]] = {}
        self._count = 0

    def constructed(self, args: pulumi.ResourceTransformationArgs) -> None:
        """A stack transformation: notes each resource as the program constructs it."""
        self._constructed.setdefault((args.type_, args.name), deque()).append(self._count)
        self._count += 1

    def in_program_order(self) -> None:
        """Sort what was recorded into the order the program constructed it."""
        position = {
            id(resource): queue.popleft()
            if (queue := self._constructed.get((resource.type, resource.name)))
            else self._count + index
            for index, resource in enumerate(self.recorded)
        }
        self.recorded.sort(key=lambda resource: position[id(resource)])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            # Which resource the mocks are about to answer for, and the URNs it was known by
            # (name-only aliases), for mocks that answer from an earlier deploy's state.
            self.azure_mocks.registering(urn, _alias_urns(urn, request.aliases))
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, read=False)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802
        response = super().ReadResource(request)
        self._record(request, response.urn, read=True)
        return response

    def Invoke(self, request: Any) -> Any:  # noqa: N802
        self.invokes.append(RecordedInvoke(request.tok, _plain(request.args)))
        return super().Invoke(request)

    def _record(self, request: Any, urn: str, *, read: bool) -> None:
        registered = self.resources.get(urn)
        inputs = _plain(request.properties if read else request.object)
        self.recorded.append(
            RecordedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=read or bool(request.custom),
                parent=request.parent or None,
                # Sorted: the SDK sends sets, in an order that changes from run to run.
                dependencies=tuple(sorted(request.dependencies)),
                property_dependencies={}
                if read
                else {
                    key: tuple(sorted(deps.urns))
                    for key, deps in request.propertyDependencies.items()
                },
                provider=_provider_urn(request.provider),
                protect=False if read else bool(request.protect),
                inputs=inputs,
                outputs=dict(registered.state) if registered else {},
                options={}
                if read
                else {
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "ignoreChanges": list(request.ignoreChanges),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "aliases": [json_format.MessageToDict(alias) for alias in request.aliases],
                    **_custom_timeouts(request),
                },
                read=read,
            )
        )


def _alias_urns(urn: str, aliases: Any) -> tuple[str, ...]:
    """The URNs of a resource's name-only aliases (a rename within the same parent)."""
    head, _, _ = urn.rpartition("::")
    names = (alias.spec.name for alias in aliases if alias.HasField("spec"))
    return tuple(f"{head}::{name}" for name in names if name)


def _custom_timeouts(request: Any) -> dict[str, Any]:
    """`customTimeouts` as the request carries it, only where a resource sets one."""
    timeouts = json_format.MessageToDict(request.customTimeouts)
    return {"customTimeouts": timeouts} if timeouts else {}


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>".
    return reference.rsplit("::", 1)[0] if reference else None


def _plain(struct: Any) -> dict[str, Any]:
    """Protobuf struct -> Python, with secrets as Secret, unknowns as UNKNOWN, resources as URNs."""
    return _unwrap(json_format.MessageToDict(struct))


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return Secret(_unwrap(value.get("value")))
        if signature == rpc._special_resource_sig:
            return value["urn"]
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return value


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, as written (secure values left encrypted).

    Raises FileNotFoundError naming the stacks there are, and StackFileError (one line naming
    the file and the line) for a file that is not a stack file.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(stacks)}")
    return read_config(path)


# Deliberately not imported from the components: `--against` runs this harness on older
# revisions of the program, whose modules may differ.
def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


Decrypt = Callable[[str], str]

# What the offline plan takes in place of a ciphertext, to try a secret without the Pulumi CLI:
#   secretless-aks:secrets: {Identity: {Secret: {secure: OFFLINE-PLAN-ONLY}}}
# The CLI cannot decrypt it, so a stack file holding it can never be deployed; the plan warns.
OFFLINE_STAND_IN = "OFFLINE-PLAN-ONLY"


def offline_stand_ins(stack_config: Mapping[str, Any]) -> list[str]:
    """The config paths (`key.sub.sub`) whose encrypted value is the offline stand-in."""

    def walk(value: Any, path: str) -> Iterator[str]:
        if _is_encrypted(value):
            if value["secure"] == OFFLINE_STAND_IN:
                yield path
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]")

    return [found for key, value in stack_config.items() for found in walk(value, key)]


class Placeholders:
    """What the harness gives the program for an encrypted value, as it never decrypts.

    The text names a digest of the ciphertext (public in the stack file), so a plan can tell
    that a secret changed without ever knowing its value. `digests` remembers which texts it
    handed out: only those are placeholders, whatever another value looks like.
    """

    def __init__(self) -> None:
        self.digests: dict[str, str] = {}

    def __call__(self, ciphertext: str) -> str:
        digest = hashlib.sha256(ciphertext.encode()).hexdigest()[:12]
        text = f"[secret:{digest}]"
        self.digests[text] = digest
        return text


def _decrypt_leaves(value: Any, decrypt: Decrypt) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves with decrypt(ciphertext); say whether any were found."""
    if _is_encrypted(value):
        return decrypt(value["secure"]), True
    if isinstance(value, dict):
        pairs = {key: _decrypt_leaves(item, decrypt) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_decrypt_leaves(item, decrypt) for item in value]
        return [item for item, _ in items], any(s for _, s in items)
    return value, False


def config_values(
    stack_config: Mapping[str, Any], decrypt: Decrypt | None = None
) -> tuple[dict[str, str], list[str]]:
    """Stack-file config -> what the Pulumi CLI hands the program: strings (JSON for objects)
    and the list of keys holding secrets.

    The harness cannot decrypt: by default encrypted values become "[secret:<digest>]". Tests that
    check a value never leaks pass `decrypt` to stand in for the CLI's decryption.
    """
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, raw in stack_config.items():
        value, secret = _decrypt_leaves(raw, decrypt or Placeholders())
        if secret:
            secret_keys.append(key)
        if isinstance(value, str):
            values[key] = value
        else:
            values[key] = json.dumps(value)  # bools and numbers too: "true", "3"
    return values, secret_keys


class MissingConfigError(Exception):
    """A key the project declares without a default, absent from the stack: the CLI refuses."""


def with_project_defaults(
    stack: str, project_file: Mapping[str, Any], stack_config: Mapping[str, Any]
) -> dict[str, Any]:
    """The config the CLI hands the program: the stack's, plus each default `Pulumi.yaml`
    declares for a key the stack leaves out.

    Like the CLI (pulumi/pulumi sdk/go/common/workspace, ValidateStackConfigAndApplyProjectConfig),
    a declared key with no default that the stack leaves out stops the run before the program
    starts.
    """
    given = dict(stack_config)
    missing = []
    for key, declaration in (project_file.get("config") or {}).items():
        full_key = key if ":" in key else f"{project_file['name']}:{key}"
        if full_key in given or not isinstance(declaration, dict):
            continue
        if "default" in declaration:
            given[full_key] = declaration["default"]
        else:
            missing.append(full_key)
    if missing:
        raise MissingConfigError(
            f"Pulumi.{stack}.yaml: "
            + "; ".join(f"{key} is missing{_closest(key, stack_config)}" for key in missing)
            + f", and Pulumi.yaml declares {'them' if len(missing) > 1 else 'it'} with no default"
        )
    return given


def program_config(
    stack: str, project_file: Mapping[str, Any], stack_config: Mapping[str, Any]
) -> dict[str, Any]:
    """What the harness hands the program: the stack's config with the project's defaults, and
    CI's marked stand-ins where the stack leaves CI's keys out (see ci_stand_ins)."""
    return {
        **with_project_defaults(stack, project_file, stack_config),
        **ci_stand_ins(project_file, stack_config),
    }


def with_ci_stand_ins(
    project_file: Mapping[str, Any], stack_config: Mapping[str, Any]
) -> dict[str, Any]:
    """The stack's config as CI hands it to the program (see ci_stand_ins)."""
    return {**stack_config, **ci_stand_ins(project_file, stack_config)}


def ci_stand_ins(
    project_file: Mapping[str, Any], stack_config: Mapping[str, Any]
) -> dict[str, Any]:
    """Marked stand-ins where the project declares `deployers`, `registry` or
    `publishContractTo` and the stack leaves them to CI (which sets them from its environment's
    DEPLOYER_OBJECT_ID, REGISTRY_ID and REGISTRY_LOGIN_SERVER, and PLATFORM_CONTRACT_URL): the
    committed stack files carry no fake ids, and a fresh clone's `make plan` still shows those
    grants and the publication. They take the place of the project's
    defaults, and are never offered as what a misspelled key meant."""
    config: dict[str, Any] = {}
    declared = project_file.get("config") or {}
    stand_ins = {
        "deployers": [{"objectId": CI_DEPLOYER_STAND_IN, "principalType": "ServicePrincipal"}],
        "registry": dict(CI_REGISTRY_STAND_IN),
        "publishContractTo": CI_CONTRACT_URL_STAND_IN,
    }
    for name, value in stand_ins.items():
        key = f"{project_file['name']}:{name}"
        if name in declared and key not in stack_config:
            config[key] = value
    return config


def _closest(key: str, stack_config: Mapping[str, Any]) -> str:
    """Where the stack holds a key close to a missing one (a misspelled namespace, say)."""
    close = difflib.get_close_matches(key, [k for k in stack_config if k != key], n=1, cutoff=0.8)
    return f" (the file has {close[0]!r}: did you mean {key!r}?)" if close else ""


def read_project_file(project_dir: Path) -> dict[str, Any]:
    return fast_yaml.safe_load((project_dir / "Pulumi.yaml").read_text())


def run_program(
    stack: str,
    *,
    config: Mapping[str, Any] | None = None,
    preview: bool = False,
    mocks: AzureMocks | None = None,
    decrypt: Decrypt | None = None,
    project_dir: Path = PROJECT_DIR,
    restore_collector: bool = True,
    provider_aliases: bool = False,
) -> RecordedGraph:
    """Run `__main__.py` for `stack` under mocks and return the recorded graph.

    `config` replaces the stack file's `config:` block (same shape as the YAML). Raises
    StackFileError for a stack file that is not one, and ProgramFailedError when the program
    raises, carrying what was registered before it did. Without `decrypt`, encrypted values
    reach the program as placeholders (see Placeholders).

    The program sets Python's collector for its process (components/collector.py); the
    harness gives it back as it found it after the run, unless `restore_collector` is False
    (a process that runs this one program and ends, as `pulumi up`'s does: the benchmark).

    The providers' aliases of each type to its earlier tokens are left out unless
    `provider_aliases` (see _without_provider_aliases): the benchmark, which measures what
    `pulumi up` evaluates, asks for them.
    """
    placeholders = Placeholders()
    stack_config = read_stack_file(stack, project_dir) if config is None else config
    project_file = read_project_file(project_dir)
    project = project_file["name"]
    given = program_config(stack, project_file, stack_config)
    mocks = mocks or AzureMocks(preview=preview)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))  # the program imports modules beside it
    # The CLI runs the program beside its stack file, which the program reads to tell
    # encrypted values from plaintext ones; give it the same, with this run's config.
    with (
        tempfile.TemporaryDirectory() as workdir,
        contextlib.chdir(workdir),
        _collector_as_found() if restore_collector else contextlib.nullcontext(),
    ):
        stack_file = fast_yaml.safe_dump({"config": dict(stack_config)})
        Path(f"Pulumi.{stack}.yaml").write_text(stack_file)
        # A fresh context per run: Pulumi keeps settings, root stack and config in contextvars.
        return contextvars.Context().run(
            _run,
            project,
            stack,
            config_values(given, decrypt or placeholders),
            preview,
            mocks,
            project_dir / "__main__.py",
            placeholders.digests,
            provider_aliases,
        )


@contextlib.contextmanager
def _collector_as_found() -> Iterator[None]:
    """Python's cyclic collector as it was before the run, once it is over: the harness runs
    many programs in one process (tests, plans), and each may change it for its own."""
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()
        else:
            gc.disable()


def _run(
    project: str,
    stack: str,
    config: tuple[dict[str, str], list[str]],
    preview: bool,
    mocks: AzureMocks,
    main: Path,
    secret_digests: Mapping[str, str],
    provider_aliases: bool,
) -> RecordedGraph:
    values, secret_keys = config
    _drop_leftover_tasks()
    _ensure_event_loop().set_exception_handler(_unless_unretrieved)
    monitor = RecordingMonitor(mocks)
    graph = RecordedGraph(
        stack,
        preview,
        monitor.recorded,
        monitor.invokes,
        project=project,
        secret_digests=secret_digests,
    )
    pulumi.runtime.set_all_config(values, secret_keys)
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=project,
        stack=stack,
        preview=preview,
        logger=_WarningRecorder(graph.warnings),
        monitor=monitor,
    )
    try:
        with _without_source_positions():
            _sync_await(run_pulumi_func(lambda: _run_main(main, monitor, provider_aliases)))
    except Exception as error:  # re-raised with the partial graph
        raise ProgramFailedError(graph, error) from error
    finally:
        monitor.in_program_order()
    root = pulumi_settings.get_root_resource()
    exports: dict[str, Any] = dict(getattr(root, "outputs", {}))
    resolved = {name: _sync_await(_resolve(value)) for name, value in exports.items()}
    graph.outputs = {name: value for name, (value, _) in resolved.items()}
    graph.secret_outputs = frozenset(name for name, (_, secret) in resolved.items() if secret)
    return graph


class _WarningRecorder(logging.Logger):
    """The mock engine's logger: keeps the program's warnings for the graph, and passes every
    message on to the root logger as the SDK's default one would."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__("secretless-aks.program")
        self.parent = logging.getLogger()
        self._warnings = warnings

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._warnings.append(str(msg))
        super().warning(msg, *args, **kwargs)


def _unless_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's handler of errors nothing awaited: passed on, except the futures a failed
    program leaves failed behind it (the SDK raises the first failure, which the harness
    reports, and awaits no other), which asyncio would log one by one as the collector frees
    them, in whatever run or test comes later."""
    if not str(context.get("message", "")).endswith("exception was never retrieved"):
        loop.default_exception_handler(context)


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """Registrations without the source position of the program's line: the SDK walks the
    whole Python stack for it at every resource, a seventh of a run, for the engine's messages;
    the harness records none."""
    stack_trace = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = stack_trace


def _drop_leftover_tasks() -> None:
    # Pulumi tracks pending outputs in a process-wide set; a program that failed leaves its
    # tasks there, and the next run would await (and re-raise) them.
    pending: set[Any] = cast(Any, pulumi_settings.SETTINGS).outputs
    for task in list(pending):
        task.cancel()
    pending.clear()


def _run_main(main: Path, monitor: RecordingMonitor, provider_aliases: bool) -> None:
    def note(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        monitor.constructed(args)
        return None if provider_aliases else _without_provider_aliases(args)

    pulumi.runtime.register_stack_transformation(note)
    runpy.run_path(str(main), run_name="__main__")


def _without_provider_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """A provider resource's options without the aliases its SDK class adds of the type to its
    earlier tokens (113 API versions of ManagedCluster, 9 of RoleAssignment, the old module of
    a moved type): the engine matches state by them when a token changes, the offline plan
    and diff match by URN and name aliases only. The SDK turns each into a chain of Outputs,
    more than half of a run's time (dev 0.19 s with them, 0.09 s without). The program's own
    aliases (a name, a parent) stay, as do aliases of components."""
    aliases = args.opts.aliases
    if not aliases or not isinstance(args.resource, pulumi.CustomResource):
        return None
    package = args.type_.split(":", 1)[0]
    kept = [alias for alias in aliases if not _is_provider_alias(alias, package)]
    if len(kept) == len(aliases):
        return None
    opts = copy.copy(args.opts)
    opts.aliases = kept
    return pulumi.ResourceTransformationResult(args.props, opts)


def _is_provider_alias(alias: Any, package: str) -> bool:
    """An alias of the type alone, to a token of the resource's own package."""
    return (
        isinstance(alias, pulumi.Alias)
        and isinstance(alias.type_, str)
        and alias.type_.split(":", 1)[0] == package
        and all(field is ... for field in (alias.name, alias.parent, alias.stack, alias.project))
    )


async def _resolve(value: Any) -> tuple[Any, bool]:
    """An exported value with what preview cannot know as UNKNOWN, and whether it is secret.

    A map keeps its known fields: `services` shows each service's namespace while its client
    id is still unknown.
    """
    output = pulumi.Output.from_input(value)
    secret = await output.is_secret()
    return _from_sdk(await output.future(with_unknowns=True)), secret


def _from_sdk(value: Any) -> Any:
    if isinstance(value, SdkUnknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: _from_sdk(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_sdk(item) for item in value]
    return value
