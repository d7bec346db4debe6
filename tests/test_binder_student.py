"""The student-edition Binder image: binder/postBuild on a copy of this checkout, with binder/edition
set the way the branch binder-student has it, leaves no solution anywhere; on main it leaves the
instructor edition alone. pip is a stand-in that records its arguments (the image's pip is Binder's)."""
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from exercise_notebooks import load_student_tool

ROOT = Path(__file__).resolve().parents[1]
student = load_student_tool()


def checkout_copy(dest: Path) -> Path:
    """The files git would check out (tracked and new, not ignored), plus a .git folder, in ``dest``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    (dest / ".git").mkdir()
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return dest


def post_build(repo: Path, edition: str, tmp_path: Path) -> subprocess.CompletedProcess:
    (repo / "binder" / "edition").write_text(edition + "\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pip").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/pip.log\n')
    (fake / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')  # this environment's
    for tool in ("pip", "python"):
        (fake / tool).chmod(stat.S_IRWXU)
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}", CONDA_DIR=str(tmp_path / "conda"))
    return subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def solution_sources() -> list[str]:
    return [c.source for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
            for c in nbformat.read(p, as_version=4).cells if "solution" in c.metadata.get("tags", [])]


def test_the_student_image_holds_the_student_edition_and_no_solution(tmp_path):
    repo = checkout_copy(tmp_path / "repo")
    result = post_build(repo, "student", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pip.log").read_text() == "install --no-deps -e .\n"
    assert (tmp_path / "conda/share/jupyter/lab/settings/overrides.json").exists()
    for name in ("notebooks/src", "notebooks/my_layers", "tests", "e2e", ".git", "build"):
        assert not (repo / name).exists(), name
    assert (repo / "cnnlib" / "exercises" / "nb02.py").exists()
    originals = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (repo / "notebooks").glob("*.ipynb")) == [p.name for p in originals]
    for path in originals:
        expected = nbformat.writes(student.student_edition(nbformat.read(path, as_version=4)))
        assert nbformat.writes(nbformat.read(repo / "notebooks" / path.name, as_version=4)) == expected
    secrets = [s for s in solution_sources() if len(s) > 40]
    assert len(secrets) > 20  # so the scan below has something to find
    for path in (p for p in repo.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        leaked = [s for s in secrets if s in text or s.replace("\n", "\\n") in text]
        assert not leaked, f"{path} holds a solution: {leaked[0][:80]!r}"


def test_the_student_image_build_fails_when_a_solution_is_left_somewhere_new(tmp_path):
    repo = checkout_copy(tmp_path / "repo")
    shutil.copy2(ROOT / "notebooks" / "02_convolution.ipynb", repo / "data" / "copy.ipynb")
    result = post_build(repo, "student", tmp_path)
    assert result.returncode != 0
    assert "still holds solutions" in result.stderr and "data/copy.ipynb" in result.stderr


def test_the_instructor_image_keeps_the_instructor_edition(tmp_path):
    repo = checkout_copy(tmp_path / "repo")
    result = post_build(repo, "instructor", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (repo / "notebooks" / "02_convolution.ipynb").read_bytes() == (ROOT / "notebooks" / "02_convolution.ipynb").read_bytes()
    assert (repo / "build" / "student" / "notebooks" / "02_convolution.ipynb").exists()


def test_main_says_instructor_and_the_workflow_makes_the_student_branch_the_badge_opens():
    yaml = pytest.importorskip("yaml")
    assert (ROOT / "binder" / "edition").read_text().strip() == "instructor"
    subprocess.run(["bash", "-n", str(ROOT / "binder" / "postBuild")], check=True)
    flow = yaml.safe_load((ROOT / ".github/workflows/binder-student.yml").read_text())
    script = flow["jobs"]["branch"]["steps"][-1]["run"]
    assert "echo student > binder/edition" in script and "git push --force origin binder-student" in script
    readme = (ROOT / "README.md").read_text()
    assert "mybinder.org/v2/gh/cnnlib/cnnlib/binder-student?urlpath=lab/tree/notebooks/" in readme
    assert "build/student/notebooks" not in readme.split("### With conda")[0]  # the old badge's path
