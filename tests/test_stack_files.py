"""Malformed stack files fail cleanly: one line naming the file (and the line YAML gives), exit 1.

Each case writes a broken Pulumi.dev.yaml into a temporary copy of the project and runs the
offline plan command on it. The message is one line, not merely one paragraph: `--against`
reports the last line a child process writes, so that line has to be the whole message.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from secretless_aks.components import fast_yaml
from secretless_aks.components.fast_yaml import YamlLimitError
from secretless_aks.offline import pr_comment
from secretless_aks.offline.baseline import BaselineError, plan_at_revision
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    MissingConfigError,
    read_stack_file,
    with_project_defaults,
)
from secretless_aks.offline.plan import main
from secretless_aks.offline.stack_file import MAX_NESTING, StackFileError
from tests.stack_configs import stack_config

STACK_FILE = "Pulumi.dev.yaml"
# What the program needs beside its stack file; linked, not copied.
PROJECT_FILES = ("__main__.py", "Pulumi.yaml", "secretless_aks")


class Case(NamedTuple):
    content: bytes
    line: int | None  # the line the message names; None where there is none to name
    says: tuple[str, ...]  # what the message must also say


def _nested(levels: int) -> bytes:
    return f"config:\n  secretless-aks:deep: {'[' * levels}{']' * levels}\n".encode()


CASES = {
    # Not YAML at all.
    "invalid-yaml": Case(
        b"config:\n  secretless-aks:protect: true: false\n",
        2,
        ("not valid YAML (mapping values are not allowed here)",),
    ),
    "tab-indentation": Case(
        b"config:\n\tsecretless-aks:protect: true\n", 2, ("not valid YAML", "not tabs")
    ),
    "unclosed-flow-mapping": Case(
        b"config:\n  secretless-aks:cluster: {nodeCount: 1\n  secretless-aks:protect: true\n",
        3,
        ("not valid YAML (while parsing a flow mapping",),
    ),
    "duplicate-anchor": Case(
        b"config:\n  secretless-aks:a: &x 1\n  secretless-aks:b: &x 2\n",
        3,
        ("duplicate anchor 'x' (first on line 2)",),
    ),
    "undefined-alias": Case(b"config:\n  secretless-aks:a: *nope\n", 2, ("undefined alias",)),
    "two-documents": Case(b"config: {}\n---\nconfig: {}\n", 2, ("a single document",)),
    "control-character": Case(
        b"config:\n  azure-native:location: west\x07europe\n", 2, ("#x0007",)
    ),
    "not-utf8": Case(
        "# dev\nconfig:\n  secretless-aks:x: café\n".encode("latin-1"),
        3,
        ("not UTF-8 text", "save the file as UTF-8"),
    ),
    # YAML, but not a stack file.
    "document-is-a-list": Case(
        b"- config\n- azure-native:location\n", 1, ("the file holds a list, not a mapping",)
    ),
    "document-is-a-string": Case(b"westeurope\n", 1, ("the file holds a string",)),
    "config-is-a-list": Case(
        b"config:\n  - azure-native:location: westeurope\n",
        2,
        ("`config:` holds a list, not a mapping",),
    ),
    "config-is-a-string": Case(b"config: westeurope\n", 1, ("`config:` holds a string",)),
    "duplicate-key": Case(
        b"config:\n  secretless-aks:cluster:\n    nodeCount: 1\n    nodeCount: 2\n",
        4,
        ("the key nodeCount under secretless-aks:cluster appears twice (first on line 3)",),
    ),
    # Keys that are not strings, at any depth.
    "number-key": Case(
        b"config:\n  secretless-aks:cluster:\n    1: x\n",
        3,
        ("the key 1 under secretless-aks:cluster is read as a number", 'quote it ("1")'),
    ),
    "boolean-key": Case(
        b"config:\n  on: westeurope\n", 2, ("the key on under `config:` is read as a boolean",)
    ),
    "null-key": Case(
        b"config:\n  secretless-aks:services:\n    - ~: x\n",
        3,
        ("the key ~ under secretless-aks:services[0] is read as null",),
    ),
    "date-key": Case(
        b"config:\n  secretless-aks:secrets:\n    2026-01-01: {secure: v1:abc}\n",
        3,
        ("the key 2026-01-01 under secretless-aks:secrets is read as a date",),
    ),
    "list-key": Case(
        b"config:\n  secretless-aks:cluster:\n    ? [a, b]\n    : x\n",
        3,
        ("a key under secretless-aks:cluster is a list",),
    ),
    # Values JSON cannot carry.
    "date-value": Case(
        b"config:\n  secretless-aks:services:\n    - name: orders\n      since: 2026-01-01\n",
        4,
        ("secretless-aks:services[0].since is a date", "quote it"),
    ),
    "datetime-value": Case(
        b"config:\n  secretless-aks:since: 2026-01-01T10:00:00Z\n",
        2,
        ("secretless-aks:since is a date",),
    ),
    "binary-value": Case(
        b'config:\n  secretless-aks:secrets:\n    "a:b":\n      Key: !!binary aGVsbG8=\n',
        4,
        ('secretless-aks:secrets["a:b"].Key is binary data (!!binary)',),
    ),
    "set-value": Case(
        b"config:\n  secretless-aks:zones: !!set {1, 2}\n",
        2,
        ("secretless-aks:zones is a set (!!set)", "use a list"),
    ),
    "unknown-tag": Case(
        b"config:\n  secretless-aks:x: !!python/object:os.system {}\n",
        2,
        ("secretless-aks:x is tagged !!python/object:os.system", "drop the tag"),
    ),
    "mistagged-number": Case(
        b"config:\n  secretless-aks:cluster:\n    nodeCount: !!int three\n",
        3,
        ("secretless-aks:cluster.nodeCount is tagged !!int but is not one",),
    ),
    "infinite-number": Case(
        b"config:\n  secretless-aks:x: .inf\n", 2, ("secretless-aks:x is an infinite",)
    ),
    # Nesting.
    "nested-too-deeply": Case(
        _nested(MAX_NESTING + 1),
        2,
        (f"secretless-aks:deep nests deeper than {MAX_NESTING} levels",),
    ),
    "nested-past-yaml-recursion": Case(
        # Deeper than Python's recursion limit: PyYAML's composer recurses once per level.
        _nested(sys.getrecursionlimit()),
        None,
        ("nested too deeply for YAML to read", f"at most {MAX_NESTING}"),
    ),
    "alias-cycle": Case(
        b"config:\n  secretless-aks:x: &loop [*loop]\n",
        2,
        (f"secretless-aks:x nests deeper than {MAX_NESTING} levels",),
    ),
    # Encrypted values without a ciphertext.
    "secure-null": Case(
        b"config:\n  secretless-aks:secrets:\n    Db:\n      Password:\n        secure: null\n",
        5,
        ("secretless-aks:secrets.Db.Password has `secure:` without a ciphertext",),
    ),
    "secure-empty": Case(
        b"config:\n  secretless-aks:secrets:\n    Db: {Password: {secure: ''}}\n",
        3,
        ("secretless-aks:secrets.Db.Password has `secure:` without a ciphertext",),
    ),
    "secure-number": Case(
        b"config:\n  secretless-aks:token:\n    secure: 12345\n",
        3,
        ("secretless-aks:token has `secure:` without a ciphertext",),
    ),
    "secure-mapping": Case(
        b"config:\n  secretless-aks:token:\n    secure: {v1: CIPHERTEXT}\n",
        3,
        ("secretless-aks:token has `secure:` without a ciphertext",),
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in PROJECT_FILES:
        (tmp_path / name).symlink_to(PROJECT_DIR / name)
    return tmp_path


def _assert_clean(err: str, case: Case) -> None:
    assert err.startswith(f"error: {STACK_FILE}")
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line, so one paragraph
    assert "Traceback" not in err
    if case.line is None:
        assert err.startswith(f"error: {STACK_FILE}: "), err
    else:
        assert err.startswith(f"error: {STACK_FILE}, line {case.line}: "), err
    for said in case.says:
        assert said in err, err
    # Messages name keys, never what a key holds.
    assert "CIPHERTEXT" not in err and "12345" not in err and "aGVsbG8" not in err


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_reports_a_malformed_stack_file_in_one_line_and_exits_1(
    case: Case, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / STACK_FILE).write_bytes(case.content)
    assert main(["dev"], project_dir=project) == 1
    out, err = capsys.readouterr()
    assert out == ""
    _assert_clean(err, case)


@pytest.mark.parametrize(
    "content",
    [b"", b"# no config yet\n", b"config:\n", b"encryptionsalt: v1:abc\n"],
    ids=["empty", "comments-only", "config-empty", "no-config-key"],
)
def test_a_stack_file_without_config_is_a_stack_without_config(
    content: bytes, project: Path
) -> None:
    (project / STACK_FILE).write_bytes(content)
    assert read_stack_file("dev", project) == {}


def test_plan_of_an_empty_stack_file_reports_the_missing_config_not_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / STACK_FILE).write_bytes(b"")
    assert main(["dev"], project_dir=project) == 1
    out, err = capsys.readouterr()
    assert out == ""
    # What the CLI says first: the keys Pulumi.yaml declares with no default.
    assert err == (
        "error: Pulumi.dev.yaml: secretless-aks:cluster is missing; secretless-aks:network is "
        "missing, and Pulumi.yaml declares them with no default\n"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_real_stack_files_read_as_plain_yaml_does(stack: str) -> None:
    written = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert read_stack_file(stack) == written


def test_unusual_but_valid_yaml_still_reads(project: Path) -> None:
    (project / STACK_FILE).write_bytes(
        b"base: &base {nodeCount: 1, tier: Free}\n"
        b"config:\n"
        b"  secretless-aks:cluster:\n    <<: *base\n    nodeCount: 2\n"
        b'  secretless-aks:since: "2026-01-01"\n'
        b"  secretless-aks:secrets:\n    Db: {Password: {secure: v1:abc}}\n"
        + _nested(MAX_NESTING).split(b"\n", 1)[1]
    )
    config = read_stack_file("dev", project)
    assert config["secretless-aks:cluster"] == {"nodeCount": 2, "tier": "Free"}
    assert config["secretless-aks:since"] == "2026-01-01"
    assert config["secretless-aks:secrets"] == {"Db": {"Password": {"secure": "v1:abc"}}}


def test_pr_comment_reports_a_malformed_stack_file_in_one_line_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES["secure-null"]
    (project / STACK_FILE).write_bytes(case.content)
    assert pr_comment.main(["--base", "HEAD", "--stacks", "dev"], project_dir=project) == 1
    out, err = capsys.readouterr()
    assert out == ""
    _assert_clean(err, case)


def test_against_a_revision_with_a_malformed_stack_file_reports_its_message(
    tmp_path: Path,
) -> None:
    case = CASES["invalid-yaml"]
    (tmp_path / STACK_FILE).write_bytes(case.content)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", STACK_FILE], check=True)
    subprocess.run([*git, "commit", "-qm", "broken"], check=True)
    with pytest.raises(BaselineError) as raised:
        plan_at_revision("HEAD", "dev", repo=tmp_path)
    with pytest.raises(StackFileError) as direct:
        read_stack_file("dev", tmp_path)
    assert str(raised.value) == f"cannot plan stack dev at HEAD: {direct.value}"
    _assert_clean(f"error: {direct.value}\n", case)


def test_the_harness_applies_the_project_defaults_as_the_cli_does() -> None:
    # prod leaves out services, keyVault and secrets: the CLI passes Pulumi.yaml's defaults.
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    prod = read_stack_file("prod")
    given = with_project_defaults("prod", project, prod)
    assert given["secretless-aks:services"] == []
    assert given["secretless-aks:keyVault"] == {}
    assert given["secretless-aks:secrets"] == {}
    assert given["secretless-aks:cluster"] == prod["secretless-aks:cluster"]


def test_a_declared_key_without_a_default_is_required_as_the_cli_requires_it() -> None:
    project = {"name": "p", "config": {"cluster": {"type": "object"}, "zone": {"type": "string"}}}
    with pytest.raises(MissingConfigError) as missing:
        with_project_defaults("dev", project, {})
    assert str(missing.value) == (
        "Pulumi.dev.yaml: p:cluster is missing; p:zone is missing, and Pulumi.yaml declares "
        "them with no default"
    )


def test_a_misspelled_block_is_named_with_its_file_its_key_and_the_key_it_was_meant_to_be(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def write(stack: str, config: dict[str, object]) -> None:
        (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))

    built = "registry/secretless-app@sha256:" + "1" * 64  # not dev's no-image-yet digest
    service = {"name": "my-great-service", "image": built, "secretScope": ["Identity--Secret"]}
    typo = stack_config(services=[service])
    typo["secretles-aks:cluster"] = typo.pop("secretless-aks:cluster")
    write("typo", typo)
    assert main(["typo"], project_dir=project) == 1
    errors = capsys.readouterr().err
    assert errors[errors.index("error: ") :] == (
        "error: Pulumi.typo.yaml: secretless-aks:cluster is missing (the file has "
        "'secretles-aks:cluster': did you mean 'secretless-aks:cluster'?), and Pulumi.yaml "
        "declares it with no default\n"
    )
    # An optional block in a misspelled namespace would reach no one: refused, naming both.
    optional = stack_config()
    optional["secretles-aks:services"] = optional.pop("secretless-aks:services")
    write("optional", optional)
    assert main(["optional"], project_dir=project) == 1
    errors = capsys.readouterr().err
    assert errors[errors.index("error: ") :] == (
        "error: invalid configuration in Pulumi.optional.yaml (1 problem):\n"
        "  - secretles-aks:services: unknown namespace (did you mean 'secretless-aks:services'?)\n"
    )


BOMB = """config:
  azure-native:location: westeurope
  secretless-aks:a: &a [x, x, x, x, x, x, x, x, x]
  secretless-aks:b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  secretless-aks:c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  secretless-aks:d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  secretless-aks:e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  secretless-aks:f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  secretless-aks:g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


def test_a_file_of_nested_aliases_is_refused_before_it_expands(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 9**7 nodes once expanded, from a file of a few hundred bytes.
    assert len(BOMB) < 600
    (project / STACK_FILE).write_text(BOMB)
    assert main(["dev"], project_dir=project) == 1
    assert capsys.readouterr().err == (
        "error: Pulumi.dev.yaml, line 7: aliases expand past 10,000 nodes here; write the values "
        "out, or share fewer of them; a stack file is a YAML mapping whose `config:` maps config "
        "keys to values\n"
    )
    # The program reads the file the same way under `pulumi up`.
    with pytest.raises(YamlLimitError):
        fast_yaml.safe_load(BOMB)


def test_a_file_of_twenty_thousand_services_is_refused_before_it_is_built(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stack_config(services=[{"name": f"s{i}"} for i in range(20_000)])
    (project / STACK_FILE).write_text(yaml.safe_dump({"config": config}))
    assert main(["dev"], project_dir=project) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"error: Pulumi\.dev\.yaml, line \d+: a list of more than 5,000 items, more than any "
        r"stack file holds; a stack file is a YAML mapping whose `config:` maps config keys to "
        r"values\n",
        err,
    ), err


def test_a_few_shared_values_are_still_fine() -> None:
    text = "a: &shared {x: 1, y: 2}\nb: *shared\nc: *shared\n"
    assert fast_yaml.safe_load(text) == {
        "a": {"x": 1, "y": 2},
        "b": {"x": 1, "y": 2},
        "c": {"x": 1, "y": 2},
    }
