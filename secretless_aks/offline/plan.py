"""Offline plan: what `pulumi up -s <stack>` would do, without the CLI or an Azure login.

    make plan STACK=dev                                  the resource table, counts, outputs
    make plan STACK=dev ARGS=--details                   ... with every resource's inputs
    make plan STACK=dev ARGS="--format json"             the whole graph (also: mermaid, dot)
    make plan STACK=dev ARGS="--output plan.json --format json"    ... written to a file
    make plan STACK=dev ARGS="--against origin/main"     what changes against a git revision
    make plan STACK=dev ARGS="--against plan.json --detailed-exitcode"
    make plan STACK=example PROJECT=bootstrap            another project of this repository
    make plan STACK=dev PLATFORM_CONTRACT=contract.json  an application project (in the consumer
    make plan STACK=dev PLATFORM_OUTPUTS=outputs.json    template's directory), from the platform's
                                                         published contract or its outputs

Runs the real program (the platform's, or the one --project names) for the stack with its
Pulumi.<stack>.yaml under the recording harness in preview mode. An application project's
StackReference reads the platform outputs --platform-outputs names (the JSON that `pulumi stack
output --json --show-secrets` prints); its published contract is read from --platform-contract
(a saved copy of the document), never downloaded. Values only Azure can know print as
output<string>, encrypted config values as [secret] (never decrypted), and the signed-in
account (tenant, subscription, deployer), which the mocks invent, as <mocked ...>; with
ARM_SUBSCRIPTION_ID set (as CI sets it for azure-native), that is the subscription, so that the
resources a stack grants on there (services[].azureAccess) are its environment's.
A diff says, as `pulumi preview` would, what is created, updated, replaced (and which input
forces it) or deleted, and refuses what `pulumi up` would not carry through (a protected
resource deleted or replaced, a federated credential created beside an equal one, a Kubernetes
version downgrade or skipped minor version: secretless_aks/offline/refusals.py). Under it, the
policy pack's verdict (policy/): every rule over the planned graph, as `pulumi preview
--policy-pack policy` would judge it. Exit codes: 0 done, 1 error, a refused change or a
mandatory policy violation, and with --detailed-exitcode 2 when the diff has changes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from secretless_aks import published_contract
from secretless_aks.components.config import ConfigError
from secretless_aks.contract import ContractError
from secretless_aks.offline.baseline import BaselineError, baseline
from secretless_aks.offline.diff import diff_as_json, diff_plans, render_diff
from secretless_aks.offline.formats import render_dot, render_mermaid, render_plan, to_json
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    MissingConfigError,
    ProgramFailedError,
    RecordedGraph,
    read_stack_file,
    run_program,
)
from secretless_aks.offline.mocks import (
    SIGNED_IN_ACCOUNT,
    AzureMocks,
    OutputsFileError,
    ReferencedStack,
)
from secretless_aks.offline.plan_values import with_mocks_named
from secretless_aks.offline.refusals import cautions, refusals
from secretless_aks.offline.stack_file import StackFileError
from secretless_aks.offline.warnings import plan_warnings

if TYPE_CHECKING:
    from policy.secretless_policy import Violation

EXIT_ERROR = 1
EXIT_CHANGES = 2
# The project the policy pack is for.
PLATFORM_PROJECT = "secretless-aks"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits EXIT_ERROR: its own 2 would read as "changes" to a
    script running with --detailed-exitcode."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


# Failures a person fixes (stack file, command line); `report` turns them into one line and exit 1.
USER_ERRORS = (
    FileNotFoundError,
    StackFileError,
    MissingConfigError,
    ProgramFailedError,
    BaselineError,
    OutputsFileError,
    ContractError,
)


def report(error: Exception) -> int:
    """Print a user error as `error: <message>` and return EXIT_ERROR; re-raise anything else."""
    message = user_error(error)
    if message is None:
        raise error
    print(f"error: {with_mocks_named(message)}", file=sys.stderr)
    return EXIT_ERROR


def user_error(error: Exception) -> str | None:
    """The message for a failure fixed in the stack file, or None for a bug (keep its traceback).

    Those are: no such stack file, a file that is not a stack file, a declared key the stack
    leaves out (the CLI refuses that too), config the program refuses, a baseline (`--against`)
    that is neither a git revision nor a saved plan, a platform outputs file that is not one,
    and referenced outputs that break the contract.
    """
    if isinstance(error, ProgramFailedError):
        return str(error.error) if isinstance(error.error, ConfigError | ContractError) else None
    return str(error) if isinstance(error, USER_ERRORS) else None


def main(argv: list[str] | None = None, *, project_dir: Path = PROJECT_DIR) -> int:
    parser = _Parser(
        prog="python -m secretless_aks.offline.plan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stack", help="the stack whose Pulumi.<stack>.yaml to plan")
    parser.add_argument(
        "--project",
        metavar="DIR",
        type=Path,
        help="the Pulumi project to plan (a directory with Pulumi.yaml and __main__.py, such "
        "as bootstrap); default: the platform, at the repository's root",
    )
    parser.add_argument(
        "--platform-outputs",
        metavar="FILE",
        type=Path,
        help="a platform stack's outputs, as `pulumi stack output --json --show-secrets` prints "
        "them: what the project's StackReference reads",
    )
    parser.add_argument(
        "--platform-contract",
        metavar="FILE",
        type=Path,
        help="a platform environment's published contract (the JSON document its `pulumi up` "
        "writes): what the project reads instead of a StackReference",
    )
    parser.add_argument(
        "--details", action="store_true", help="show inputs (and changed values) in full"
    )
    parser.add_argument("--format", choices=("text", "json", "mermaid", "dot"), default="text")
    parser.add_argument("--output", metavar="FILE", type=Path, help="write to FILE, not stdout")
    parser.add_argument(
        "--against", metavar="REV|PLAN.json", help="diff against a git revision or a saved plan"
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help=f"with --against: exit {EXIT_CHANGES} when there are changes",
    )
    args = parser.parse_args(argv)
    if args.detailed_exitcode and not args.against:
        parser.error("--detailed-exitcode needs --against (it reports whether a diff has changes)")
    if args.against and args.format in ("mermaid", "dot"):
        parser.error(f"--format {args.format} draws a plan, not a diff; drop --against")
    if args.project is not None:
        project_dir = args.project.resolve()
        if not (project_dir / "Pulumi.yaml").is_file():
            parser.error(f"--project {args.project}: no Pulumi.yaml there")
    try:
        # Read once: the warnings, the run and the policy pack take the same config (the run
        # adds the stand-in for the deployer CI sets, which the pack knows by its marker).
        stack_config = read_stack_file(args.stack, project_dir)
        for warning in plan_warnings(stack_config):
            print(f"warning: {warning}", file=sys.stderr)
        platform = _platform(args.platform_outputs)
        if platform is not None and platform.planned:
            print(
                f"warning: {args.platform_outputs} is a platform plan: the outputs Azure would "
                "compute are unknown there, and a StackReference with an unknown output is "
                "unknown as a whole, so what reads it (the team's namespaces) is checked only "
                "against the deployed platform's outputs",
                file=sys.stderr,
            )
        contract = (
            published_contract.read_document_file(args.platform_contract)
            if args.platform_contract
            else None
        )
        with published_contract.offline_document(contract):
            graph = run_program(
                args.stack,
                config=stack_config,
                preview=True,
                mocks=AzureMocks(preview=True, any_stack=platform, signed_in=signed_in()),
                project_dir=project_dir,
            )
        for warning in graph.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        # One plan document for the table or diff and for the policy pack.
        document = to_json(graph)
        text, changed, refused = (
            _diff(document, args, project_dir)
            if args.against
            else (_plan(graph, document, args), False, [])
        )
    except USER_ERRORS as error:
        return report(error)
    policies, violations = policy_verdict(document, stack_config)
    if policies and args.format == "text":
        text += "\n\n" + policies
    elif policies:
        print(policies, file=sys.stderr)
    if args.output:
        args.output.write_text(text + "\n")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    for refusal in refused:
        print(f"error: refused: {refusal}", file=sys.stderr)
    if refused or any(violation.mandatory for violation in violations):
        return EXIT_ERROR
    return EXIT_CHANGES if args.detailed_exitcode and changed else 0


def signed_in() -> dict[str, str]:
    """The account the plan signs in as: invented, but for ARM_SUBSCRIPTION_ID when set (the
    subscription azure-native deploys to in CI), so that what a stack names there (azureAccess)
    is planned as in the environment's own subscription."""
    subscription = os.environ.get("ARM_SUBSCRIPTION_ID", "")
    if re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", subscription):
        return {**SIGNED_IN_ACCOUNT, "subscriptionId": subscription.lower()}
    return dict(SIGNED_IN_ACCOUNT)


def policy_verdict(
    document: dict[str, Any], stack_config: dict[str, Any]
) -> tuple[str, list[Violation]]:
    """The policy pack's verdict on the platform's plan document (`to_json`), and its
    violations.

    Only the platform project: bootstrap's deploy identities are subscription-wide by design.
    """
    if document["project"] != PLATFORM_PROJECT:
        return "", []
    # Imported here: the pack lives beside the platform (policy/), not in the installed package.
    from policy.secretless_policy import RULES, Settings, Stack, evaluate
    from policy.secretless_policy.report import render as render_policies

    stack = Stack.from_plan(document)
    violations = evaluate(RULES, stack, Settings.from_config(stack_config))
    return "\n".join(render_policies(violations, stack, len(RULES))), violations


def _platform(outputs: Path | None) -> ReferencedStack | None:
    return ReferencedStack.from_outputs_file(outputs) if outputs else None


def _plan(graph: RecordedGraph, document: dict[str, Any], args: argparse.Namespace) -> str:
    renderers = {
        "text": lambda: render_plan(document, details=args.details),
        "json": lambda: json.dumps(document, indent=2),
        "mermaid": lambda: render_mermaid(graph),
        "dot": lambda: render_dot(graph),
    }
    return renderers[args.format]()


def _diff(
    document: dict[str, Any], args: argparse.Namespace, project_dir: Path
) -> tuple[str, bool, list[str]]:
    """The diff's text, whether it has changes, and the changes `pulumi up` would not carry
    through (each printed as an error); what only works in steps is printed as a warning."""
    before = baseline(
        args.against,
        args.stack,
        repo=project_dir,
        outputs=args.platform_outputs,
        contract=args.platform_contract,
    )
    diff = diff_plans(before, document)
    for caution in cautions(before, document):
        print(f"warning: {caution}", file=sys.stderr)
    if args.format == "json":
        text = json.dumps(diff_as_json(diff, against=args.against), indent=2)
    else:
        text = render_diff(diff, against=args.against, details=args.details)
    return text, bool(diff.changes), refusals(before, diff)


if __name__ == "__main__":
    sys.exit(main())
