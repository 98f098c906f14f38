"""The app's image path: built once by ACR Tasks, promoted by digest through pull requests.

    images.py build --login-server SERVER --repository REPO --context DIR --tag TAG --stack dev
    images.py promote --repository REPO --from dev --to prod

`build` has ACR Tasks build DIR into SERVER/REPO:TAG (`az acr build`: no container engine
on the runner), then sets the image's digest wherever the stack file names
`registry/REPO@sha256:...` and opens a pull request with that change. `promote` copies the
digest one stack file names into another's, by pull request too: nothing is rebuilt per
environment, and every preview and deploy sees the digest that is in git.

Standard library only, so the workflows run it with the runner's Python and no install.
Exit status: 0 done (or nothing to change), 1 refused or failed, with a line saying why.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LOGIN_SERVER = re.compile(r"(?P<name>[a-z0-9]{5,50})\.azurecr\.(io|us|cn)")
REPOSITORY = re.compile(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
STACK = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# The committer of the pull requests' commits: GitHub's own bot, as the token that pushes is.
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class ImagePathError(Exception):
    """Input or a result this script will not act on; the message says which and why."""


def stack_file(stack: str) -> Path:
    return Path(f"Pulumi.{stack}.yaml")


def platform_images(repository: str) -> re.Pattern[str]:
    """`registry/<repository>@sha256:<digest>`, as a service's `image` names it."""
    return re.compile(rf"(?<![\w./-])registry/{re.escape(repository)}@(sha256:[0-9a-f]{{64}})")


def digest_in(text: str, repository: str, source: str) -> str:
    """The one digest a stack file gives the repository's image."""
    digests = set(platform_images(repository).findall(text))
    if len(digests) != 1:
        found = "no" if not digests else f"{len(digests)} different"
        raise ImagePathError(f"{source} names {found} registry/{repository}@sha256:... image(s)")
    return digests.pop()


def with_digest(text: str, repository: str, digest: str, source: str) -> str:
    """The stack file with every image of the repository at `digest`; only those characters
    change, so comments and layout stay as people wrote them."""
    updated, count = platform_images(repository).subn(f"registry/{repository}@{digest}", text)
    if not count:
        raise ImagePathError(
            f"{source} names no registry/{repository}@sha256:... image: give a service that "
            f"image first (docs/ci-and-bootstrap.md, Images)"
        )
    return updated


def run(command: Sequence[str]) -> str:
    # Fixed commands; the values in them are checked against patterns first.
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise ImagePathError(f"{command[0]} {command[1]} failed: {completed.stderr.strip()}")
    return completed.stdout


def build(login_server: str, repository: str, context: str, tag: str) -> str:
    """ACR Tasks builds and pushes the image; the digest of what it pushed."""
    name = LOGIN_SERVER.fullmatch(login_server)
    if not name:
        raise ImagePathError(f"--login-server {login_server!r} is not an Azure Container Registry")
    # With --no-logs, `az acr build` waits for the run and returns it (azure-cli's
    # command_modules/acr/build.py, get_run_with_polling): its outputImages hold the digest.
    run_json = run(
        [
            "az", "acr", "build",
            "--registry", name["name"],
            "--image", f"{repository}:{tag}",
            "--no-logs",
            "--query", "{status: status, runId: runId, digest: outputImages[0].digest}",
            "--output", "json",
            context,
        ]
    )  # fmt: skip
    result = json.loads(run_json)
    if result.get("status") != "Succeeded":
        raise ImagePathError(
            f"the ACR Tasks run {result.get('runId')} ended {result.get('status')}: see "
            f"`az acr task logs --registry {name['name']} --run-id {result.get('runId')}`"
        )
    digest = result.get("digest") or ""
    if not DIGEST.fullmatch(digest):
        raise ImagePathError(f"the ACR Tasks run {result.get('runId')} reported no image digest")
    return digest


def propose(stack: str, repository: str, digest: str, why: str) -> str | None:
    """Set the digest in the stack file, on a branch, as a pull request to main; the branch,
    or None when the file already has it."""
    path = stack_file(stack)
    text = path.read_text()
    updated = with_digest(text, repository, digest, str(path))
    if updated == text:
        print(f"{path} already runs registry/{repository}@{digest}: nothing to propose")
        return None
    branch = f"images/{stack}-{repository.replace('/', '-')}-{digest[7:19]}"
    path.write_text(updated)
    git = ["git", "-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}"]
    title = f"{stack}: {repository} at {digest[:19]}"
    run([*git, "switch", "--create", branch])
    run([*git, "commit", "--quiet", "--message", f"{title}\n\n{why}", "--", str(path)])
    # The same digest makes the same branch: a rerun replaces it rather than failing.
    run(["git", "push", "--force", "origin", f"HEAD:refs/heads/{branch}"])
    body = (
        f"{why}\n\nSets `registry/{repository}@{digest}` in `{path}`. The plan comment shows "
        f"the one Deployment it updates; merging deploys it."
    )
    run(
        ["gh", "pr", "create", "--base", "main", "--head", branch, "--title", title, "--body", body]
    )
    print(f"proposed {title} on {branch}")
    return branch


def checked(pattern: re.Pattern[str], value: str, option: str) -> str:
    if not pattern.fullmatch(value):
        raise ImagePathError(f"{option} {value!r} is not valid")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="images.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="build with ACR Tasks, propose for a stack")
    build_command.add_argument("--login-server", required=True)
    build_command.add_argument("--repository", required=True)
    build_command.add_argument("--context", required=True)
    build_command.add_argument("--tag", required=True)
    build_command.add_argument("--stack", default="dev")
    promote_command = commands.add_parser("promote", help="copy a stack's digest into another's")
    promote_command.add_argument("--repository", required=True)
    promote_command.add_argument("--from", dest="source", default="dev")
    promote_command.add_argument("--to", dest="target", default="prod")
    args = parser.parse_args(argv)
    try:
        repository = checked(REPOSITORY, args.repository, "--repository")
        if args.command == "build":
            stack = checked(STACK, args.stack, "--stack")
            tag = checked(TAG, args.tag, "--tag")
            if not Path(args.context, "Dockerfile").is_file():
                raise ImagePathError(f"--context {args.context!r} has no Dockerfile")
            digest = build(args.login_server, repository, args.context, tag)
            why = f"ACR Tasks built `{args.context}/` at {tag} into {args.login_server}."
            propose(stack, repository, digest, why)
        else:
            source = checked(STACK, args.source, "--from")
            target = checked(STACK, args.target, "--to")
            path = stack_file(source)
            digest = digest_in(path.read_text(), repository, str(path))
            propose(target, repository, digest, f"Promotes the image {source} runs; no rebuild.")
    except (ImagePathError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
