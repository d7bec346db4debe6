"""The dependencies are declared once (pyproject.toml); the conda and Binder files must agree."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = re.compile(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*((?:[<>=!~]=?[^,\s]+,?)*)\s*$")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def split(spec: str) -> tuple[str, str]:
    name, rest = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec).groups()
    return name.lower(), rest.replace(" ", "")


def conda_specs(path: Path) -> dict[str, str]:
    """name -> version specifier for every package line of an environment.yml (conda and pip parts)."""
    found = {}
    for line in path.read_text().splitlines():
        m = SPEC.match(line.split("#")[0])
        if m and not m.group(1).startswith("-"):
            name, version = m.group(1).lower(), m.group(2)
            found[name] = version.lstrip("=") if name == "python" else version
    return found


def test_parser_reads_both_parts():
    specs = conda_specs(ROOT / "environment.yml")
    assert specs["numpy"] == ">=1.26,<3"
    assert specs["torch"] == "==2.14.1"
    assert specs["python"] == "3.11"


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_every_dependency_is_in_the_environment_files_at_the_same_versions(env_file):
    specs = conda_specs(ROOT / env_file)
    for dep in pyproject()["dependencies"]:
        name, version = split(dep)
        assert name in specs, f"{env_file} lacks {name} (declared in pyproject.toml as {dep!r})"
        assert specs[name] == version, f"{env_file} has {name}{specs[name]} but pyproject.toml says {dep!r}"
    assert specs["python"] == "3.11"


def test_conda_environment_also_has_the_dev_tools():
    specs = conda_specs(ROOT / "environment.yml")
    for dep in pyproject()["optional-dependencies"]["dev"]:
        name, version = split(dep)
        assert specs.get(name) == version, f"environment.yml should have {dep!r}"


def test_torch_and_torchvision_are_a_pair_that_installs_here():
    deps = dict(split(d) for d in pyproject()["dependencies"])
    assert (deps["torch"], deps["torchvision"]) == ("==2.14.1", "==0.29.1")


def test_binder_scripts():
    post = (ROOT / "binder/postBuild").read_text()
    start = (ROOT / "binder/start").read_text()
    assert "set -e" in post and "pip install --no-deps -e ." in post
    assert start.rstrip().endswith('exec "$@"')
    assert (ROOT / "binder/overrides.json").exists()


def test_ci_runs_make_test_and_notebooks_run_strictly():
    assert "make test" in (ROOT / ".ci/run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "--nbval-lax" not in makefile
    assert "--nbval --nbval-current-env --nbval-sanitize-with" in makefile


def test_pages_workflow_builds_the_book_on_main_and_deploys_it():
    yaml = pytest.importorskip("yaml")
    flow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text())
    on = flow.get("on", flow.get(True))          # YAML 1.1 reads a bare `on` key as True
    assert on["push"]["branches"] == ["main"]
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    steps = build["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses.index("actions/checkout") < uses.index("actions/upload-pages-artifact")
    assert "actions/setup-node" in uses, "make book installs MathJax with npm"
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == ["make book"]
    upload = steps[uses.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "build/book/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    makefile = (ROOT / "Makefile").read_text()
    assert "\nbook:" in makefile and "tools/book.py" in makefile
