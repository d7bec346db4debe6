"""Stage 6, report: a result line per submission as soon as it is graded, the gradebook, the feedback.

- ``results.jsonl``: one JSON object per graded submission, appended and flushed the moment it
  is graded (:class:`Results`). A rerun with the same output folder skips every submission whose
  file is unchanged (same path and SHA-256), so a stopped run resumes where it stopped.
- ``gradebook.csv`` (:func:`write_gradebook`): nbgrader's export layout (``nbgrader export``:
  assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
  late_submission_penalty, score, max_score), one row per student and notebook, then one column
  of points per exercise. Canvas and Moodle import it.
- ``feedback/<student>/<notebook>.html`` (:func:`write_feedback`): the executed notebook, with
  the grader's verdicts in a table at the top and each verdict below its check cell.
"""
from __future__ import annotations

import csv
import hashlib
import html
import json
import threading
from pathlib import Path

import nbformat

NBGRADER_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Results:
    """``results.jsonl``: append one graded submission at a time; know which are done already."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.done: dict[tuple[str, str], dict] = {}
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            if text and not text.endswith("\n"):  # a line cut short by a kill: the next starts on its own
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write("\n")
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                    self.done[(entry["submission"], entry["sha256"])] = entry
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that submission is graded again

    def get(self, submission: str, digest: str) -> dict | None:
        return self.done.get((submission, digest))

    def add(self, entry: dict) -> None:
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()
            self.done[(entry["submission"], entry["sha256"])] = entry


def _points(value: float) -> str:
    return f"{value:g}"


def write_gradebook(entries: list[dict], path: Path) -> None:
    """One row per (student, notebook); the latest entry wins if a student was graded twice."""
    rows, exercises = {}, []
    for entry in entries:
        rows[(entry["student"], entry["notebook"])] = entry
        for e in entry["exercises"]:
            if e["exercise"] not in exercises:
                exercises.append(e["exercise"])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*NBGRADER_COLUMNS, *exercises])
        for (student, notebook), entry in sorted(rows.items()):
            points = {e["exercise"]: _points(e["points"]) for e in entry["exercises"]}
            score = _points(entry["score"])
            writer.writerow([Path(notebook).stem, "", entry.get("timestamp", ""), student, "", "", "", score, "0",
                             score, _points(entry["max_score"]), *(points.get(x, "") for x in exercises)])


def _verdict_cell(rows: list[dict]) -> nbformat.NotebookNode:
    lines = ["<div class='grader-verdict'><b>Grader:</b><ul>"]
    for r in rows:
        lines.append(f"<li><b>{html.escape(r['exercise'])}</b>: {html.escape(r['status'])}, "
                     f"{_points(r['points'])} of {_points(r['max_points'])} points"
                     f"<pre>{html.escape(r['message'])}</pre></li>")
    cell = nbformat.v4.new_markdown_cell("\n".join(lines) + "</ul></div>")
    cell.metadata["grader"] = True
    return cell


def _summary_cell(entry: dict) -> nbformat.NotebookNode:
    head = (f"<h1>Feedback: {html.escape(Path(entry['notebook']).name)}</h1><p>Student <b>{html.escape(entry['student'])}</b>: "
            f"<b>{_points(entry['score'])} of {_points(entry['max_score'])}</b> points.</p>")
    note = entry.get("notebook_error")
    if note:
        head += f"<p>Running your whole notebook: {html.escape(note)}</p>"
    table = "".join(f"<tr><td>{html.escape(r['exercise'])}</td><td>{html.escape(r['status'])}</td>"
                    f"<td>{_points(r['points'])} / {_points(r['max_points'])}</td></tr>" for r in entry["exercises"])
    head += ("<table><tr><th>exercise</th><th>verdict</th><th>points</th></tr>" + table + "</table>"
             "<p>The verdicts come from the grader, which ran your answer cells on the checks' cases; "
             "the outputs below are your notebook as it ran.</p>")
    cell = nbformat.v4.new_markdown_cell(head)
    cell.metadata["grader"] = True
    return cell


def feedback_notebook(executed, entry: dict, check_cells: dict[str, int]):
    """``executed`` with the summary first and each exercise's verdict after its check cell."""
    nb = nbformat.from_dict(executed) if executed is not None else nbformat.v4.new_notebook()
    by_cell: dict[int, list[dict]] = {}
    unplaced = []
    for row in entry["exercises"]:
        index = check_cells.get(row["exercise"])
        (by_cell.setdefault(index, []) if index is not None and index < len(nb.cells) else unplaced).append(row)
    cells = [_summary_cell(entry)]
    for i, cell in enumerate(nb.cells):
        cells.append(cell)
        if i in by_cell:
            cells.append(_verdict_cell(by_cell[i]))
    if unplaced:
        cells.append(_verdict_cell(unplaced))
    nb.cells = cells
    return nb


def write_feedback(nb, path: Path) -> None:
    from nbconvert import HTMLExporter

    path.parent.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")
