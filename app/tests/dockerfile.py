"""A small Dockerfile reader for the tests: instructions with continuation lines joined.

There is no container engine on the development and CI machines, so the image is checked by
reading its Dockerfile, and its HEALTHCHECK command is run against the real app process.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-cased, e.g. "RUN"
    arguments: str  # the rest, continuation lines joined with single spaces


def parse_dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"{path} ends inside a continued instruction"
    return instructions


def arguments_of(instructions: list[Instruction], keyword: str) -> list[str]:
    return [i.arguments for i in instructions if i.keyword == keyword]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) argument list, as CMD and HEALTHCHECK ... CMD take."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list) and all(isinstance(part, str) for part in parsed), arguments
    return parsed


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    """The HEALTHCHECK's command, its --options skipped."""
    (healthcheck,) = arguments_of(instructions, "HEALTHCHECK")
    words = healthcheck.split(" ")
    while words[0].startswith("--"):
        words.pop(0)
    assert words[0] == "CMD", healthcheck
    return exec_form(" ".join(words[1:]))


def env_names(instructions: list[Instruction]) -> list[str]:
    """Names set by ENV (both `ENV A=1 B=2` and the legacy `ENV A 1`) and declared by ARG."""
    names: list[str] = []
    for instruction in instructions:
        if instruction.keyword == "ARG":
            names.append(instruction.arguments.split("=", 1)[0])
        elif instruction.keyword == "ENV":
            words = shlex.split(instruction.arguments)
            if "=" in words[0]:
                names.extend(word.split("=", 1)[0] for word in words)
            else:
                names.append(words[0])
    return names
