"""requirements.lock: what the CI jobs that hold an Azure token install, with
`pip install --require-hashes`; and policy/requirements.txt, the policy pack's, which those jobs
install the same way (and Pulumi, when it creates the pack's venv). `make lock` makes each from
its input with pip-compile; these checks catch a lock left behind by a change of its input,
offline (CI also runs `make lock` again and compares)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretless_aks.offline.harness import PROJECT_DIR


@dataclass(frozen=True)
class Lock:
    """A hashed requirements file and the pins it is compiled from, as `make lock` names them."""

    source: str
    lock: str

    @property
    def path(self) -> Path:
        return PROJECT_DIR / self.lock

    @property
    def requirements(self) -> Path:
        return PROJECT_DIR / self.source

    @property
    def via_source(self) -> str:
        """How pip-compile names the input in a `# via` line."""
        return f"-r {self.source}"


LOCKS = [
    Lock(source="requirements.txt", lock="requirements.lock"),
    Lock(source="policy/requirements.in", lock="policy/requirements.txt"),
]
each_lock = pytest.mark.parametrize("lock", LOCKS, ids=[lock.lock for lock in LOCKS])
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def canonical(name: str) -> str:
    """PEP 503: `PyYAML`, `pyyaml` and `py_yaml` name one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.fullmatch(line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def lock_entries(lock: Lock) -> dict[str, tuple[str, list[str], list[str]]]:
    """Each locked package: its version, its hash options and what it is required by (`# via`)."""
    entries: dict[str, tuple[str, list[str], list[str]]] = {}
    current = ""
    for line in lock.path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            match = PIN.fullmatch(line.removesuffix("\\").strip())
            assert match, f"{lock.lock}: {line!r} is not a pinned package"
            current = canonical(match.group(1))
            entries[current] = (match.group(2), [], [])
        elif line.strip().startswith("--hash="):
            entries[current][1].append(line.strip().removesuffix("\\").strip())
        else:
            via = line.strip().removeprefix("#").strip().removeprefix("via").strip()
            if via:
                entries[current][2].append(via)
    return entries


@each_lock
def test_every_pin_of_the_source_is_locked_at_the_same_version(lock: Lock) -> None:
    locked = {name: version for name, (version, _, _) in lock_entries(lock).items()}
    stale = {
        name: (version, locked.get(name))
        for name, version in pinned_requirements(lock.requirements).items()
        if locked.get(name) != version
    }
    assert not stale, f"run `make lock`: {lock.source} pins ≠ {lock.lock} {stale}"


@each_lock
def test_every_locked_package_carries_sha256_hashes(lock: Lock) -> None:
    entries = lock_entries(lock)
    assert len(entries) > len(pinned_requirements(lock.requirements))  # the dependencies too
    for name, (_, hashes, _) in entries.items():
        assert hashes, f"{name} has no --hash"
        assert all(HASH.fullmatch(option) for option in hashes), name


@each_lock
def test_every_locked_package_is_needed_by_the_source(lock: Lock) -> None:
    """No leftover of an earlier source: each entry is a pin or a dependency of one."""
    entries = lock_entries(lock)
    direct = set(pinned_requirements(lock.requirements))
    for name, (_, _, required_by) in entries.items():
        assert required_by, f"{name} says nothing of what needs it"
        assert all(via == lock.via_source or canonical(via) in entries for via in required_by), (
            name,
            required_by,
        )
        assert (lock.via_source in required_by) == (name in direct), name


@each_lock
def test_the_lock_names_no_index_and_no_local_path(lock: Lock) -> None:
    """Options other than hashes would send pip elsewhere than PyPI, or to this machine."""
    for line in lock.path.read_text().splitlines():
        option = line.split("#", 1)[0].strip()  # pip-compile's comments name no source
        assert not option.startswith("-") or option.startswith("--hash=sha256:"), line
        assert "file:" not in option and "/opt/" not in option, line


def test_make_lock_is_the_command_that_made_each_lock() -> None:
    commands = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_DIR), "-n", "lock"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    compiles = [line[line.index("pip-compile") :] for line in commands if "pip-compile" in line]
    assert len(compiles) == len(LOCKS)
    for lock, compile_command in zip(LOCKS, compiles, strict=True):
        assert "#    make lock\n" in lock.path.read_text(), lock.lock
        assert compile_command.endswith(f"--output-file {lock.lock} {lock.source}"), lock.lock
        for option in ("--generate-hashes", "--allow-unsafe", "--no-emit-index-url"):
            assert option in compile_command, (lock.lock, option)


def test_the_policy_pack_shares_the_programs_pulumi_release() -> None:
    """The pack runs inside the same `pulumi preview`; pulumi-policy is pinned exactly, since
    the pack's adapter reaches into its internals (crossguard.keep_markers)."""
    program = pinned_requirements(PROJECT_DIR / "requirements.txt")
    pack = pinned_requirements(PROJECT_DIR / "policy" / "requirements.in")
    assert pack["pulumi"] == program["pulumi"]
    assert pack["pulumi-policy"] == "1.21.0"
