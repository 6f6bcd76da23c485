"""The apps point one way (import-linter's contracts in pyproject.toml, run by `make lint`):
they hold on this tree, and they catch a planted violation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ["portal", "web", "accounts", "tenants", "apikeys", "gateway", "leaks", "customers"]
PACKAGES += ["jobs"]
PACKAGES += ["api", "demo"]


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT, "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=os.environ | {"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "migrations", "templates", "static"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(tree):
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("tenants/planted.py", "import jobs.models\n"),  # a lower app imports a higher one
        ("apikeys/planted.py", "from portal import settings\n"),  # an app imports the project
        ("web/planted.py", "import accounts.models\n"),  # the library imports an app
        ("gateway/planted.py", "import leaks.views\n"),  # the hot path imports the leaks app
    ],
)
def test_a_planted_violation_breaks_a_contract(tree, module, planted):
    (tree / module).write_text(planted)
    result = _lint(tree)
    assert result.returncode != 0
    assert (
        "BROKEN" in result.stdout and module.replace("/", ".").removesuffix(".py") in result.stdout
    )
