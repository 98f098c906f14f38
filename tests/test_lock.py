"""requirements.lock: what the CI jobs that hold an Azure token install, with
`pip install --require-hashes`. `make lock` makes it from requirements.txt with pip-compile; these
checks catch a lock left behind by a change of requirements.txt, offline (CI also runs
`make lock` again and compares)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from offline.harness import PROJECT_DIR

REQUIREMENTS = PROJECT_DIR / "requirements.txt"
LOCK = PROJECT_DIR / "requirements.lock"
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


def lock_entries() -> dict[str, tuple[str, list[str], list[str]]]:
    """Each locked package: its version, its hash options and what it is required by (`# via`)."""
    entries: dict[str, tuple[str, list[str], list[str]]] = {}
    current = ""
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            match = PIN.fullmatch(line.removesuffix("\\").strip())
            assert match, f"requirements.lock: {line!r} is not a pinned package"
            current = canonical(match.group(1))
            entries[current] = (match.group(2), [], [])
        elif line.strip().startswith("--hash="):
            entries[current][1].append(line.strip().removesuffix("\\").strip())
        else:
            via = line.strip().removeprefix("#").strip().removeprefix("via").strip()
            if via:
                entries[current][2].append(via)
    return entries


def test_every_pin_of_requirements_txt_is_locked_at_the_same_version() -> None:
    locked = {name: version for name, (version, _, _) in lock_entries().items()}
    stale = {
        name: (version, locked.get(name))
        for name, version in pinned_requirements(REQUIREMENTS).items()
        if locked.get(name) != version
    }
    assert not stale, f"run `make lock`: requirements.txt pins ≠ lock {stale}"


def test_every_locked_package_carries_sha256_hashes() -> None:
    entries = lock_entries()
    assert len(entries) > len(pinned_requirements(REQUIREMENTS))  # the dependencies too
    for name, (_, hashes, _) in entries.items():
        assert hashes, f"{name} has no --hash"
        assert all(HASH.fullmatch(option) for option in hashes), name


def test_every_locked_package_is_needed_by_requirements_txt() -> None:
    """No leftover of an earlier requirements.txt: each entry is a pin or a dependency of one."""
    entries = lock_entries()
    direct = set(pinned_requirements(REQUIREMENTS))
    for name, (_, _, required_by) in entries.items():
        assert required_by, f"{name} says nothing of what needs it"
        assert all(
            via == "-r requirements.txt" or canonical(via) in entries for via in required_by
        ), (name, required_by)
        assert ("-r requirements.txt" in required_by) == (name in direct), name


def test_the_lock_names_no_index_and_no_local_path() -> None:
    """Options other than hashes would send pip elsewhere than PyPI, or to this machine."""
    for line in LOCK.read_text().splitlines():
        option = line.strip()
        assert not option.startswith("-") or option.startswith("--hash=sha256:"), line
        assert "file:" not in option and "/opt/" not in option, line


def test_make_lock_is_the_command_that_made_the_lock() -> None:
    assert "#    make lock\n" in LOCK.read_text()
    commands = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_DIR), "-n", "lock"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    compile_command = commands[commands.index("pip-compile") :]
    for option in ("--generate-hashes", "--output-file requirements.lock", "requirements.txt"):
        assert option in compile_command, option
