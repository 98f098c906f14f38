"""Who deploys: the deployer's grants go to the configured `deployers`, never to whoever runs
`pulumi up`; CI names its environment's deploy identity; and the sequence bootstrap -> CI ->
platform hands the deploy identity's id through to grants its own condition allows."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy.secretless_policy import conditions as abac
from secretless_aks.components import roles
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import PROJECT_DIR, ProgramFailedError, run_program
from secretless_aks.offline.mocks import (
    CI_CONTRACT_URL_STAND_IN,
    CI_DEPLOYER_STAND_IN,
    CI_REGISTRY_STAND_IN,
    SIGNED_IN_ACCOUNT,
    AzureMocks,
)
from tests.graph_queries import ROLE_ASSIGNMENT, grant, grants
from tests.stack_configs import RICH_CONFIG, stack_config
from tests.step_scripts import run_step

BOOTSTRAP = PROJECT_DIR / "bootstrap"
AZURE_ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-azure" / "action.yml"
WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
CI = "0d6e2a57-6f5c-4d38-9e4f-0a8b3c2d1e0f"
PERSON = "7c1f2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
DEPLOYERS = [
    {"objectId": CI, "principalType": "ServicePrincipal"},
    {"objectId": PERSON, "principalType": "User"},
]
SECRETS = {"Db": {"Password": {"secure": "v1:ciphertext"}}}


def deployed_by(caller: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dev graph as a plan document, with `caller` as the signed-in account."""
    mocks = AzureMocks(preview=False, signed_in={**SIGNED_IN_ACCOUNT, "objectId": caller})
    return to_json(run_program("dev", config=config, mocks=mocks))


def test_the_graph_is_the_same_whoever_runs_pulumi_up() -> None:
    config = stack_config(deployers=DEPLOYERS, secrets=SECRETS)
    assert deployed_by(PERSON, config) == deployed_by(CI, config)
    assert deployed_by(PERSON) == deployed_by(CI)  # with the stand-in for CI's deployer


def test_the_deployers_hold_exactly_cluster_admin_and_secrets_officer_and_the_caller_nothing() -> (
    None
):
    graph = run_program("dev", config=stack_config(deployers=DEPLOYERS, secrets=SECRETS))
    held = {(g.principal_id, g.role, g.principal_type) for g in grants(graph)}
    for deployer in DEPLOYERS:
        assert {
            (role, kind) for principal, role, kind in held if principal == deployer["objectId"]
        } == {
            (roles.AKS_RBAC_CLUSTER_ADMIN, deployer["principalType"]),
            (roles.KEY_VAULT_SECRETS_OFFICER, deployer["principalType"]),
        }
    assert SIGNED_IN_ACCOUNT["objectId"] not in {principal for principal, _, _ in held}
    # Every seeded secret waits for every deployer's right to write it.
    officers = {
        a.urn for a in graph.by_type(ROLE_ASSIGNMENT) if grant(a).role.name.endswith("Officer")
    }
    for secret in graph.by_type("azure-native:keyvault:Secret"):
        assert officers <= set(secret.dependencies), secret.urn


def test_the_first_deployer_keeps_the_single_deployer_grants_resource_name() -> None:
    graph = run_program("dev", config=stack_config(deployers=DEPLOYERS, secrets=SECRETS))
    for name, old in (
        (
            f"kubernetes-deployer-{CI}-aks-rbac-cluster-admin",
            "kubernetes-deployer-aks-rbac-cluster-admin",
        ),
        (f"keyvault-deployer-{CI}-secrets-officer", "keyvault-deployer-secrets-officer"),
    ):
        (alias,) = [a for a in graph.named(name).options["aliases"] if "name" in a["spec"]]
        assert alias["spec"]["name"] == old
    assert not [
        a
        for a in graph.named(f"kubernetes-deployer-{PERSON}-aks-rbac-cluster-admin").options[
            "aliases"
        ]
        if "name" in a["spec"]
    ]


def test_a_stack_with_neither_deployers_nor_admin_groups_is_refused() -> None:
    with pytest.raises(ProgramFailedError) as failed:
        run_program("dev", config=stack_config(deployers=[]))
    assert failed.value.graph.resources == []
    assert str(failed.value.error) == (
        "invalid configuration in Pulumi.dev.yaml (1 problem):\n"
        "  - secretless-aks:deployers: is empty, and so is "
        "secretless-aks:cluster.adminGroupObjectIds: no one could create the Kubernetes objects "
        "or administer the cluster. CI sets deployers from its environment's DEPLOYER_OBJECT_ID; "
        "people belong in an admin group"
    )
    # An admin group is enough: people administer the cluster through it.
    group = "4f9c2a61-7b3e-4d85-a0c6-1e2d3f4a5b6c"
    run_program("dev", config=stack_config(deployers=[], cluster={"adminGroupObjectIds": [group]}))


@pytest.mark.parametrize(
    ("deployers", "problem"),
    [
        (
            [{"objectId": CI}],
            "secretless-aks:deployers[0].principalType: required key is missing",
        ),
        (
            [{"objectId": CI, "principalType": "ManagedIdentity"}],
            "secretless-aks:deployers[0].principalType: expected 'ServicePrincipal', 'User' or "
            "'Group', found 'ManagedIdentity'",
        ),
        (
            [DEPLOYERS[0], DEPLOYERS[0]],
            "secretless-aks:deployers: each objectId must appear once",
        ),
    ],
)
def test_bad_deployers_are_refused_naming_the_key(
    deployers: list[dict[str, str]], problem: str
) -> None:
    with pytest.raises(ProgramFailedError) as failed:
        run_program("dev", config=stack_config(deployers=deployers))
    assert str(failed.value.error).splitlines()[1:] == [f"  - {problem}"]


def test_the_committed_stack_files_carry_no_deployer_and_plan_with_the_marked_stand_in() -> None:
    for stack in ("dev", "prod"):
        stack_file = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        assert "secretless-aks:deployers" not in stack_file["config"]
        graph = run_program(stack, preview=True)
        principals = {g.principal_id for g in grants(graph)}
        assert CI_DEPLOYER_STAND_IN in principals
        assert SIGNED_IN_ACCOUNT["objectId"] not in principals
    text = subprocess.run(
        [
            str(PROJECT_DIR / ".venv" / "bin" / "python")
            if (PROJECT_DIR / ".venv" / "bin" / "python").exists()
            else "python3",
            "-m",
            "secretless_aks.offline.plan",
            "dev",
            "--details",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "principalId       : <set by CI from DEPLOYER_OBJECT_ID>" in text


def test_the_policy_pack_accepts_two_deployers_and_still_flags_a_stranger() -> None:
    from policy.secretless_policy import RULES, Settings, Stack, evaluate

    config = stack_config(deployers=DEPLOYERS, secrets=SECRETS)
    document = to_json(run_program("dev", config=config, preview=True))
    settings = Settings.from_config(config)
    assert settings.deployers == {CI, PERSON}
    verdict = evaluate(RULES, Stack.from_plan(document), settings)
    assert [v.rule for v in verdict if v.rule == "role-assignment-known-principals"] == []
    one_deployer = Settings.from_config(stack_config(deployers=DEPLOYERS[:1]))
    flagged = evaluate(RULES, Stack.from_plan(document), one_deployer)
    messages = [v.message for v in flagged if v.rule == "role-assignment-known-principals"]
    assert messages and all(f"1 other principal gets roles here ({PERSON})" in m for m in messages)


# --- CI names its environment's deploy identity ---------------------------------------------


def action_step(name: str) -> dict[str, Any]:
    (step,) = [
        s
        for s in yaml.safe_load(AZURE_ACTION.read_text())["runs"]["steps"]
        if s.get("name") == name
    ]
    return step


SET_DEPLOYER = "The stack's deployer and registry are this environment's"


def run_set_deployer(
    tmp_path: Path,
    stack: str,
    object_id: str,
    registry: dict[str, str] = CI_REGISTRY_STAND_IN,
    *,
    team_deployers: str = "{}",
    app_teams: list[dict[str, Any]] | None = None,
    contract_url: str = CI_CONTRACT_URL_STAND_IN,
) -> tuple[int, str, list[str]]:
    """The action's step with a stand-in `pulumi` that records the arguments of `config
    set-all`, one per line, and answers `config get appTeams --json` with `app_teams` as the
    CLI does (`objectValue`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    recorded = tmp_path / "args"
    answer = tmp_path / "app-teams.json"
    answer.write_text(json.dumps({"objectValue": app_teams or [], "secret": False}))
    fake = bin_dir / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2" = "config get" ]; then cat {answer}; exit 0; fi\n'
        f'printf "%s\\n" "$@" > {recorded}\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    step = action_step(SET_DEPLOYER)
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STACK": stack}
    environment["DEPLOYER_OBJECT_ID"] = object_id
    environment["REGISTRY_ID"] = registry["id"]
    environment["REGISTRY_LOGIN_SERVER"] = registry["loginServer"]
    environment["TEAM_DEPLOYERS"] = team_deployers
    environment["CONTRACT_URL"] = contract_url
    result = run_step(step["run"], environment)
    args = recorded.read_text().splitlines() if recorded.exists() else []
    return result.returncode, result.stdout + result.stderr, args


def set_by_path(config: dict[str, Any], project: str, args: list[str]) -> dict[str, Any]:
    """What `pulumi config set-all --path --plaintext 'a[0].b=v' ...` writes into a stack's
    config: lists and maps along the path, plain strings at the leaves (an object id and a
    principal type are neither numbers nor booleans, which --path would convert)."""
    assert args[:2] == ["config", "set-all"] and "--path" in args
    # A copy all the way down: a path into an existing list (appTeams[1]) must not change the
    # caller's config (a module-level one, shared by other tests).
    updated = copy.deepcopy(config)
    pairs = [args[i + 1] for i, arg in enumerate(args) if arg == "--plaintext"]
    for pair in pairs:
        path, _, value = pair.partition("=")
        key, *rest = re.findall(r"[^.\[\]]+", path)
        full_key = f"{project}:{key}"
        if not rest:
            updated[full_key] = value
            continue
        node: Any = updated.setdefault(full_key, [] if path[len(key)] == "[" else {})
        for part, following in zip(rest, [*rest[1:], None], strict=True):
            index: int | str = int(part) if part.isdigit() else part
            if following is None:
                node[index] = value
                continue
            child: Any = [] if following.isdigit() else {}
            if isinstance(node, list):
                while len(node) <= int(index):
                    node.append(child)
                node = node[int(index)]
            else:
                node = node.setdefault(index, child)
    return updated


def test_ci_sets_the_deployer_with_one_config_set_all_by_path(tmp_path: Path) -> None:
    code, _, args = run_set_deployer(tmp_path, "dev", CI)
    assert code == 0
    assert args == [
        "config",
        "set-all",
        "--stack",
        "dev",
        "--path",
        "--plaintext",
        f"deployers[0].objectId={CI}",
        "--plaintext",
        "deployers[0].principalType=ServicePrincipal",
        "--plaintext",
        f"registry.id={CI_REGISTRY_STAND_IN['id']}",
        "--plaintext",
        f"registry.loginServer={CI_REGISTRY_STAND_IN['loginServer']}",
        "--plaintext",
        f"publishContractTo={CI_CONTRACT_URL_STAND_IN}",
    ]
    config = set_by_path(stack_config(), "secretless-aks", args)
    assert config["secretless-aks:deployers"] == [
        {"objectId": CI, "principalType": "ServicePrincipal"}
    ]
    assert config["secretless-aks:registry"] == CI_REGISTRY_STAND_IN
    assert config["secretless-aks:publishContractTo"] == CI_CONTRACT_URL_STAND_IN


def test_ci_refuses_an_environment_without_its_contract_url(tmp_path: Path) -> None:
    code, output, args = run_set_deployer(tmp_path, "dev", CI, contract_url="")
    assert code == 1 and args == []
    assert "::error::contract-url must be set (the environment's PLATFORM_CONTRACT_URL" in output


def test_ci_refuses_an_environment_without_its_registry(tmp_path: Path) -> None:
    no_registry = {"id": "", "loginServer": ""}
    code, output, args = run_set_deployer(tmp_path, "dev", CI, no_registry)
    assert code == 1 and args == []
    assert "::error::registry-id and registry-login-server must be set" in output


@pytest.mark.parametrize("object_id", ["", "not-an-id", f"{CI}\nARM_CLIENT_ID=x"])
def test_ci_refuses_a_deployer_that_is_not_an_object_id(tmp_path: Path, object_id: str) -> None:
    code, output, args = run_set_deployer(tmp_path, "dev", object_id)
    assert code == 1 and args == []
    assert "::error::deployer-object-id must be an object id" in output


def test_the_deploy_and_preview_jobs_pass_their_environments_deployer() -> None:
    jobs = {
        ("deploy.yml", "dev"): "dev",
        ("deploy.yml", "prod"): "prod",
        ("pr-plan.yml", "preview"): "${{ matrix.stack }}",
    }
    for (file, name), stack in jobs.items():
        job = yaml.safe_load((WORKFLOWS / file).read_text())["jobs"][name]
        (step,) = [s for s in job["steps"] if s.get("uses") == "$/.github/actions/pulumi-azure"]
        assert step["with"]["deployer-object-id"] == "${{ vars.DEPLOYER_OBJECT_ID }}", name
        assert step["with"]["stack"] == stack, name
        # The config is set before the job's own Pulumi step runs.
        steps = [s.get("uses", "") for s in job["steps"]]
        assert steps.index("$/.github/actions/pulumi-azure") < next(
            i for i, uses in enumerate(steps) if uses.startswith("pulumi/actions")
        )
    action = yaml.safe_load(AZURE_ACTION.read_text())["runs"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in action]
    cli = next(i for i, n in enumerate(names) if n.startswith("pulumi/actions"))
    assert cli < names.index(SET_DEPLOYER)
    assert "command" not in action[cli].get("with", {})  # installs the CLI only


# --- the sequence: bootstrap -> CI -> platform ---------------------------------------------


def test_bootstraps_deployer_reaches_the_platform_and_every_platform_grant_is_allowed(
    tmp_path: Path,
) -> None:
    # The platform's richest stack, its groups approved in bootstrap.
    platform = dict(RICH_CONFIG)
    admin_groups = platform["secretless-aks:cluster"]["adminGroupObjectIds"]
    example = yaml.safe_load((BOOTSTRAP / "Pulumi.example.yaml").read_text())["config"]
    # One list of teams: bootstrap's names them as the platform stacks' appTeams do.
    teams = {team["name"]: team["groupObjectId"] for team in platform["secretless-aks:appTeams"]}
    assert {t["name"]: t["groupObjectId"] for t in example["bootstrap:appTeams"]} == teams
    environments = example["bootstrap:environments"]
    environments["dev"]["adminGroupObjectIds"] = admin_groups
    bootstrap = run_program(
        "example",
        config={
            **example,
            "bootstrap:environments": environments,
        },
        project_dir=BOOTSTRAP,
    )
    variables = bootstrap.outputs["githubVariables"]
    deployer = variables["dev"]["DEPLOYER_OBJECT_ID"]
    assert variables["preview-dev"]["DEPLOYER_OBJECT_ID"] == deployer
    # CI's step, with the variables bootstrap declared, sets the platform's config.
    registry = {
        "id": variables["dev"]["REGISTRY_ID"],
        "loginServer": variables["dev"]["REGISTRY_LOGIN_SERVER"],
    }
    code, _, args = run_set_deployer(
        tmp_path,
        "rich",
        deployer,
        registry,
        team_deployers=variables["dev"]["TEAM_DEPLOYERS"],
        app_teams=platform["secretless-aks:appTeams"],
        contract_url=variables["dev"]["PLATFORM_CONTRACT_URL"],
    )
    assert code == 0
    graph = run_program("rich", config=set_by_path(platform, "secretless-aks", args))
    # The platform publishes its contract into the container bootstrap made for dev, where
    # bootstrap let the deploy identity, and no other, write.
    url = graph.named("contract").inputs["url"]
    assert url == variables["dev"]["PLATFORM_CONTRACT_URL"]
    container = bootstrap.named("state-contract-dev").outputs["id"]
    assert url.split("/")[-2] == container.rsplit("/", 1)[-1]
    writers = {
        a.inputs["principalId"]
        for a in bootstrap.by_type(ROLE_ASSIGNMENT)
        if a.inputs["scope"] == container and grant(a).role == roles.STORAGE_BLOB_DATA_CONTRIBUTOR
    }
    assert writers == {deployer}
    # Each team's CI identity reached its appTeams entry, and holds what its group holds.
    team_ci = json.loads(variables["dev"]["TEAM_DEPLOYERS"])
    assert set(team_ci) == set(teams)
    held = {grant(a).principal_id for a in graph.by_type(ROLE_ASSIGNMENT)}
    assert set(team_ci.values()) <= held
    assignments = graph.by_type(ROLE_ASSIGNMENT)
    assert {grant(a).principal_id for a in assignments if grant(a).role.name.endswith("Admin")} >= {
        deployer
    }
    # The deploy identity makes every one of these under the condition of its RBAC
    # Administrator there (the registry's for a grant on the registry, else its environment
    # subscription's): each is allowed.
    administrators = {
        a.inputs["scope"] == registry["id"]: a.inputs["condition"]
        for a in bootstrap.by_type(ROLE_ASSIGNMENT)
        if a.inputs["principalId"] == deployer and grant(a).role == roles.RBAC_ADMINISTRATOR
    }
    assert set(administrators) == {True, False}
    for assignment in assignments:
        inputs = assignment.inputs
        condition = administrators[inputs["scope"] == registry["id"]]
        request = abac.Request(
            "write",
            grant(assignment).role.guid,
            inputs["principalId"],
            inputs.get("principalType") or "User",
        )
        assert abac.allows(condition, request), assignment.urn


TEAM_CI = "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def test_ci_sets_each_teams_ci_identity_on_its_appteams_entry_by_name(tmp_path: Path) -> None:
    teams = [{"name": "search"}, {"name": "payments"}]
    deployers = json.dumps({"payments": TEAM_CI, "billing": TEAM_CI})
    code, output, args = run_set_deployer(
        tmp_path, "dev", CI, team_deployers=deployers, app_teams=teams
    )
    assert code == 0
    assert args[-2:] == ["--plaintext", f"appTeams[1].deployerObjectId={TEAM_CI}"]
    assert not any(arg.startswith("appTeams[0]") for arg in args)
    # Bootstrap lists a team this stack does not have yet: said, not set.
    assert "::warning::team billing has a CI identity here but no appTeams entry" in output


def test_ci_refuses_a_teams_ci_identity_that_is_not_an_object_id(tmp_path: Path) -> None:
    code, output, args = run_set_deployer(
        tmp_path,
        "dev",
        CI,
        team_deployers=json.dumps({"payments": "not-an-id"}),
        app_teams=[{"name": "payments"}],
    )
    assert code != 0 and args == []  # stopped before `config set-all`
    assert "::error::TEAM_DEPLOYERS[payments] must be an object id" in output
