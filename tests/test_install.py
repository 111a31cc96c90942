"""The wheel installs one package, ``geoplan``, and its public API runs the demo.

The wheel is built from the working tree and installed into a fresh virtual
environment; the libraries it depends on are taken from this environment
through a ``.pth`` path entry (so nothing is downloaded), which adds their
folder to ``sys.path`` without running this environment's own ``.pth`` files —
so the editable install of the checkout is not visible there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "out", "__pycache__", ".*_cache", "tests"
)

_SCRIPT = """
import importlib.util, json, sys
import geoplan

for name in ("geo", "layers", "analysis", "maps"):
    assert importlib.util.find_spec(name) is None, name
assert sorted(geoplan.__all__) == sorted(set(geoplan.__all__))
project = geoplan.read_project(geoplan.DEMO_PROJECT)
result = geoplan.check_project(project)
written = geoplan.write_outputs(result, sys.argv[1])
print(json.dumps({"module": geoplan.__file__, "written": [p.name for p in written],
                  "conflicts": len(result.conflicts)}))
"""


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("install")
    # A copy, so the build leaves no build/ folder in the checkout.
    source = shutil.copytree(REPO, root / "source", ignore=_NOT_SHIPPED)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), source],
        check=True,
    )
    wheel = next((root / "dist").glob("geoplan-*.whl"))
    env = root / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (purelib / "geoplan_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def test_wheel_installs_only_geoplan(fresh_venv: Path):
    purelib = next(fresh_venv.glob("lib/python3*/site-packages"))
    ours = {p.name for p in purelib.iterdir()} - {
        "pip",
        "setuptools",
        "pkg_resources",
        "_distutils_hack",
        "distutils-precedence.pth",
        "geoplan_test_deps.pth",
        "__pycache__",
    }
    ours = {n for n in ours if not n.startswith(("pip-", "setuptools-"))}
    assert {n.split("-")[0] for n in ours} == {"geoplan"}
    assert (purelib / "geoplan" / "analysis" / "packs" / "national.toml").is_file()
    assert (purelib / "geoplan" / "layers" / "bazhong" / "data" / "bazhong.gpkg").is_file()


@pytest.mark.slow
def test_public_api_runs_the_demo(fresh_venv: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", _SCRIPT, str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["module"].startswith(str(fresh_venv))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert answer["conflicts"] == report["summary"]["conflicts"] > 0
    assert "report.json" in answer["written"]
    version = subprocess.run(
        [str(fresh_venv / "bin" / "geoplan"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "geoplan" in version.stdout
