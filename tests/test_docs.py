"""What people read: README.md is a quickstart of at most 250 lines that links every page of
docs/, and no link in the project's Markdown points at a missing file or heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
PAGES = (
    "configuration.md",
    "operations.md",
    "policy.md",
    "ci-and-bootstrap.md",
    "contract.md",
    "performance.md",
    "security.md",
    "application.md",
)
# The project's own Markdown (not what tools install into virtual environments).
MARKDOWN = sorted(
    path
    for path in PROJECT_DIR.rglob("*.md")
    if not {"venv", "node_modules", "build"} & set(path.relative_to(PROJECT_DIR).parts)
    # Nor what tools write under hidden directories (.venv*, .pytest_cache, .git), which
    # would make the count of tests depend on what ran before.
    and not any(part.startswith(".") for part in path.relative_to(PROJECT_DIR).parts[:-1])
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces `-`."""
    found = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            found.add(re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-"))
    return found


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_readme_is_a_quickstart_that_links_every_page_of_docs() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    for page in PAGES:
        assert (DOCS / page).is_file(), page
        assert f"](docs/{page})" in text, f"README.md does not link docs/{page}"
    assert sorted(path.name for path in DOCS.glob("*.md")) == sorted(PAGES)


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_link_points_at_a_file_and_heading_that_exist(path: Path) -> None:
    for target in links(path):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        assert resolved.exists(), f"{path.name}: {target} points at a missing file"
        if anchor:
            assert resolved.suffix == ".md", f"{path.name}: {target}"
            assert anchor in anchors(resolved), f"{path.name}: no heading #{anchor} in {file_part}"
