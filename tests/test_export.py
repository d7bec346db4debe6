"""tools/export_nbgrader.py and tools/export_otter.py on every real notebook, without running the tools'
commands (tests/test_export_nbgrader.py and tests/test_export_otter.py grade with them)."""
import ast
from pathlib import Path

import nbformat
import pytest

from export_tools import ROOT, load_tool

common = load_tool("export_common")
nbg = load_tool("export_nbgrader")
otter = load_tool("export_otter")
PATHS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WITH_EXERCISES = [p for p in PATHS if '"exercise"' in p.read_text()]


def nbgrader_cells(nb, key):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get(key)]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_nbgrader_source_has_one_answer_and_one_asserting_test_per_exercise(path: Path):
    instructor = common.read(path)
    exercises = list(common.read_exercises(instructor).values())
    nb = nbg.nbgrader_notebook(instructor)
    answers, tests = nbgrader_cells(nb, "solution"), nbgrader_cells(nb, "grade")
    assert [c.metadata.nbgrader.grade_id for c in tests] == [e.id for e in exercises]
    assert [c.metadata.nbgrader.grade_id for c in answers] == [f"{e.id}_answer" for e in exercises]
    for ex, answer, test in zip(exercises, answers, tests):
        assert "### BEGIN SOLUTION" in answer.source and "### END SOLUTION" in answer.source
        assert test.metadata.nbgrader.locked and test.metadata.nbgrader.points == ex.points
        assert f"from {ex.module} import {ex.checker}\n" in test.source  # imported inside the cell
        assert "\nassert " in test.source
        assert ("### BEGIN HIDDEN TESTS" in test.source) == (ex.kind == "function")
        ast.parse(test.source)
        ast.parse(answer.source)
    # every other code cell is locked, so autograde restores it from the release
    others = [c for c in nb.cells if c.cell_type == "code" and c not in answers and c not in tests]
    assert all(c.metadata.nbgrader.locked and not c.metadata.nbgrader.solution for c in others)
    assert not any(common.CHECK.match(c.source.strip()) for c in nb.cells)
    ids = [c.metadata.nbgrader.grade_id for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_numeric_answer_has_its_own_variable(path: Path):
    exercises = list(common.read_exercises(common.read(path)).values())
    names = [e.name for e in exercises]
    assert len(names) == len(set(names)) and "answer" not in names
    for ex in exercises:
        if ex.kind == "value":
            assert ex.name == f"answer_{ex.id}"
            assert f"{ex.name} = None" in ex.stub
            assert f"{ex.name} =" in ex.solution and not any(
                isinstance(n, ast.Name) and n.id == "answer" for n in ast.walk(ast.parse(ex.solution)))


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_otter_master_has_one_all_or_nothing_question_per_exercise(path: Path):
    instructor = common.read(path)
    exercises = list(common.read_exercises(instructor).values())
    nb = otter.otter_notebook(instructor, path.stem)
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    assert "ok_format: false" in nb.cells[0].source and f"name: {path.stem}" in nb.cells[0].source
    questions = [c.source for c in nb.cells if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
    assert questions == [f"# BEGIN QUESTION\nname: {e.id}\npoints: {e.points}\nall_or_nothing: true" for e in exercises]
    hidden = [c.source for c in nb.cells if c.cell_type == "code" and "hidden: true" in c.source]
    assert len(hidden) == sum(e.kind == "function" for e in exercises)
    assert all("assert_own_code(env[" in h for h in hidden)


def test_points_come_from_the_checker(monkeypatch):
    path = ROOT / "notebooks" / "02_convolution.ipynb"
    from cnnlib.exercises import nb02
    monkeypatch.setattr(nb02.check_conv_parameters, "points", 3, raising=False)
    exercises = {e.id: e for e in common.read_exercises(common.read(path)).values()}
    assert exercises["conv_parameters"].points == 3 and exercises["output_shape"].points == 1
    nb = nbg.nbgrader_notebook(common.read(path))
    assert {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in nbgrader_cells(nb, "grade")}[
        "conv_parameters"] == 3


def test_a_function_solution_goes_inside_the_stubs_def():
    ex = {e.id: e for e in common.read_exercises(common.read(ROOT / "notebooks" / "02_convolution.ipynb")).values()}
    source = ex["output_size"].answer_source("# BEGIN SOLUTION", "# END SOLUTION")
    assert source.startswith("def output_size(n, f, stride, padding):\n    # BEGIN SOLUTION\n")
    assert source.rstrip().endswith("    # END SOLUTION")
    assert ex["output_size"].allowed == ()  # the solution uses no cnnlib function


def test_what_a_function_solution_uses_from_cnnlib_is_allowed():
    path = ROOT / "notebooks" / "08_case_studies_alexnet_vgg.ipynb"
    (table,) = [e for e in common.read_exercises(common.read(path)).values() if e.id == "layer_table"]
    assert table.allowed == ("cnnlib.shapes.conv_output_size",)


def test_rename_changes_names_not_comments_or_strings():
    src = 'answer = None  # your answer here\nprint("answer", answer_x, answer, f"{answer:.1%} ×", answer)\n'
    assert common.rename(src, "answer", "answer_q") == (
        'answer_q = None  # your answer here\nprint("answer", answer_x, answer_q, f"{answer_q:.1%} ×", answer_q)\n')


def test_a_check_cell_of_another_shape_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from cnnlib.exercises.nb02 import check_conv_parameters")])
    for tag, source in (("exercise", "answer = None"), ("solution", "answer = 1"), ("check", "check_conv_parameters(answer)")):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    with pytest.raises(ValueError, match="a check cell must be `_ = check_<id>"):
        common.read_exercises(nb)
    nb.cells[-1].source = "_ = check_conv_parameters(answer)"
    assert list(common.read_exercises(nb).values())[0].name == "answer_conv_parameters"


def test_the_exports_are_the_same_on_every_run(tmp_path):
    path = ROOT / "notebooks" / "04_losses.ipynb"
    for tool in (nbg, otter):
        tool.main(["--out", str(tmp_path / "a"), str(path)])
        tool.main(["--out", str(tmp_path / "b"), str(path)])
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()) and len(a) == 3
    for rel in a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


@pytest.mark.parametrize("path", [p for p in WITH_EXERCISES if '"selfcheck"' in p.read_text()], ids=lambda p: p.stem)
def test_selfcheck_cells_survive_both_exports_after_their_answer(path: Path):
    """The learner's own gradient checks sit between a solution and its check; both exports keep them, locked,
    after the answer cell (nbgrader: before the graded test, which replaces the check cell)."""
    instructor = common.read(path)
    selfchecks = [common.GOOD_BELOW.sub("good_below=None", c.source)       # the threshold is left to the learner
                  for c in instructor.cells if "selfcheck" in c.metadata.get("tags", [])]
    nb = nbg.nbgrader_notebook(instructor)
    sources = [c.source for c in nb.cells]
    for src in selfchecks:
        k = sources.index(src)
        assert nb.cells[k].metadata.nbgrader.locked
        before = [c for c in nb.cells[:k] if c.metadata.get("nbgrader", {}).get("solution")]
        after = [c for c in nb.cells[k + 1:] if c.metadata.get("nbgrader", {}).get("grade")]
        assert before and after and before[-1].metadata.nbgrader.grade_id == after[0].metadata.nbgrader.grade_id + "_answer"
    master = [c.source for c in otter.otter_notebook(instructor, path.stem).cells]
    assert all(src in master for src in selfchecks)


def test_the_learners_own_gradient_checks_travel_with_good_below_left_to_them():
    """A "selfcheck" cell between a solution and its check went missing, and the check cell stayed behind
    as a plain cell (05 was the first notebook with them)."""
    instructor = common.read(ROOT / "notebooks" / "05_backpropagation.ipynb")
    for nb in (nbg.nbgrader_notebook(instructor), otter.otter_notebook(instructor, "05_backpropagation")):
        own = [c.source for c in nb.cells if "gradient_check_yours(" in c.source]
        assert len(own) == 3, own
        assert all(s.count("good_below=None") == 2 and "1e-6" not in s for s in own), own
        assert not any(common.CHECK.match(c.source.strip()) for c in nb.cells)
