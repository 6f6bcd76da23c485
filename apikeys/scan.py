"""Find Keyward keys before they leak: `keyward-scan PATH…` (or `python -m apikeys.scan`).

Looks in files (and, with `--history`, in every commit of the git repositories at PATH) for
`kw_<env>_<id>_<secret><checksum>` with a valid checksum: a look-alike string (a wrong
checksum, a truncated key, another prefix) is never reported. Prints `file:line` (or
`commit:file:line`) and the key ID, never the secret, and exits 1 when it found any key.
`--revoke` sends what it found to the system API (`KEYWARD_SERVICE_KEY`, a service key),
which revokes each live key and marks it leaked where it was found.

Needs no database and no Django settings: the checksum is computed offline
(`apikeys.keyformat`).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apikeys.keyformat import KEY_PATTERN, checksum_matches

MAX_FILE_BYTES = 10 * 1024 * 1024
SKIP_DIRECTORIES = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__"}
ENVIRONMENTS = {"live": "production", "stg": "staging", "dev": "development", "svc": "service"}
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
REVOKE_BATCH = 100


@dataclass(frozen=True)
class Finding:
    location: str  # file:line, or commit:file:line
    key_id: str
    environment: str
    token: str = field(repr=False)  # kept to revoke; never printed

    def __str__(self) -> str:
        kind = "service key" if self.environment == "service" else f"{self.environment} key"
        return f"{self.location}: Keyward {kind} {self.key_id}"


def keys_in_line(line: str) -> Iterator[re.Match]:
    """The well-formed keys with a valid checksum in one line of text."""
    if "kw_" not in line:
        return
    for match in KEY_PATTERN.finditer(line):
        if checksum_matches(match.group(0)):
            yield match


def _finding(location: str, match: re.Match) -> Finding:
    return Finding(location, match["id"], ENVIRONMENTS[match["env"]], match.group(0))


def scan_text(text: str, name: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), 1):
        for match in keys_in_line(line):
            yield _finding(f"{name}:{number}", match)


def scan_file(path: Path) -> Iterator[Finding]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return
        data = path.read_bytes()
    except OSError:
        return
    if b"\0" in data[:8192]:  # binary
        return
    yield from scan_text(data.decode("utf-8", "replace"), str(path))


def files_under(paths: Iterable[str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_file():
            yield path
            continue
        for root, directories, files in os.walk(path):
            directories[:] = sorted(d for d in directories if d not in SKIP_DIRECTORIES)
            for name in sorted(files):
                yield Path(root) / name


def scan_history(repository: str) -> Iterator[Finding]:
    """Every key ever added in any commit of any branch or tag of the git repository at
    `repository` (the lines each commit added: `git log -p --all`)."""
    command = [
        "git",
        "-C",
        repository,
        "-c",
        "core.quotePath=false",
        "log",
        "-p",
        "--all",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "-U0",
        "--format=commit %H",
    ]
    with subprocess.Popen(  # noqa: S603 - a fixed command, no shell
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as process:
        commit = path = ""
        number = 0
        in_header = False
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("commit ") and len(line) == 47:  # never a diff line
                commit, path, in_header = line[7:19], "", False
                continue
            if line.startswith("diff --git "):
                in_header, path = True, ""
                continue
            if in_header:
                if line.startswith("+++ "):
                    target = line[4:]
                    path = target[2:] if target.startswith("b/") else ""
                elif hunk := HUNK.match(line):
                    in_header, number = False, int(hunk[1])
                continue
            if hunk := HUNK.match(line):
                number = int(hunk[1])
            elif line.startswith("+") and path:
                for match in keys_in_line(line[1:]):
                    yield _finding(f"{commit}:{path}:{number}", match)
                number += 1
    if process.returncode not in (0, None):
        raise RuntimeError(f"git log failed in {repository}")


def is_git_repository(path: str) -> bool:
    result = subprocess.run(  # noqa: S603 - a fixed command, no shell
        ["git", "-C", path, "rev-parse", "--is-inside-work-tree"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def revoke(findings: list[Finding], url: str, service_key: str) -> list[str]:
    """Ask the system API to revoke the tenant keys found; one line per key, for the user."""
    unique: dict[str, Finding] = {}
    lines = []
    for finding in findings:
        if finding.environment == "service":
            lines.append(f"{finding.key_id}: a service key; revoke it on the system admin site.")
            continue
        unique.setdefault(finding.token, finding)
    entries = list(unique.values())
    endpoint = url.rstrip("/") + "/api/system/v1/keys/revoke-found"
    for start in range(0, len(entries), REVOKE_BATCH):
        batch = entries[start : start + REVOKE_BATCH]
        body = json.dumps(
            {"keys": [{"token": f.token, "found_at": f.location[:500]} for f in batch]}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator's own Keyward URL
            endpoint,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {service_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = json.loads(response.read())
        for finding, result in zip(batch, answer["keys"], strict=True):
            if result["revoked"]:
                lines.append(f"{finding.key_id}: revoked, and marked leaked.")
            else:
                lines.append(f"{finding.key_id}: not a live key; nothing revoked.")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="keyward-scan",
        description="Find Keyward API keys in files and git history (prefix and checksum). "
        "Exits 1 when it finds any.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    parser.add_argument(
        "--history",
        action="store_true",
        help="also scan every commit of the git repositories at PATH",
    )
    parser.add_argument(
        "--revoke",
        action="store_true",
        help="revoke the live keys found, through the system API: needs KEYWARD_URL (or "
        "--url) and KEYWARD_SERVICE_KEY, a service key",
    )
    parser.add_argument("--url", default=os.environ.get("KEYWARD_URL", ""))
    options = parser.parse_args(argv)
    service_key = os.environ.get("KEYWARD_SERVICE_KEY", "")
    if options.revoke and not (options.url and service_key):
        parser.error("--revoke needs KEYWARD_URL (or --url) and KEYWARD_SERVICE_KEY")
    findings = [f for path in files_under(options.paths) for f in scan_file(path)]
    if options.history:
        for path in options.paths:
            if Path(path).is_dir() and is_git_repository(path):
                findings.extend(scan_history(path))
    for finding in findings:
        print(finding)
    if findings:
        count = len({f.token for f in findings})
        print(
            f"Found {count} Keyward key{'s' if count != 1 else ''} in {len(findings)} "
            f"place{'s' if len(findings) != 1 else ''}.",
            file=sys.stderr,
        )
    if options.revoke and findings:
        try:
            for line in revoke(findings, options.url, service_key):
                print(line)
        except (urllib.error.URLError, ValueError, KeyError) as error:
            print(f"Could not revoke through {options.url}: {error}", file=sys.stderr)
            return 2
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
