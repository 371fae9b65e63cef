"""The one-way flow of ../shared/design/architecture.md, as pyproject.toml's import-linter contract states it:
no module imports a module of a higher layer."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_layers_flow_one_way():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency (pip install -e '.[test]')"
    run = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_names_every_package():
    """A new top-level package or module must be placed in a layer, or the contract says nothing about it."""
    import tomllib
    layers = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {n.strip(" ()") for layer in layers for n in layer.split("|")}
    here = REPO / "storyboard"
    top = {f"storyboard.{p.stem}" for p in here.glob("*.py") if p.stem not in ("__init__", "__main__")}
    top |= {f"storyboard.{p.name}" for p in here.iterdir() if (p / "__init__.py").is_file()}
    top -= {"storyboard.data", "storyboard.templates"}
    assert top <= named, f"not in any layer of pyproject.toml's contract: {sorted(top - named)}"
