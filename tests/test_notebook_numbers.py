"""Every number in a reviewed notebook's Markdown is backed (issue 26's "How").

A number written in a Markdown cell must be one of:

- printed by a cell of the same notebook (its stored outputs), or set or asserted in a cell's code
  (comments do not count);
- listed in ``tests/notebook_numbers/<notebook>.tsv`` with its source, one line per number:
  ``number<TAB>kind<TAB>cite<TAB>where``, where ``kind`` is
  - ``lecture``: the number is on the lecture's slide named in ``where`` (the lecture is not in the
    repository; set ``CNNLIB_LECTURE`` to a folder of its text to check these entries too);
  - ``paper``: ``cite`` must appear word for word in the notebook's Markdown (its references), and
    ``where`` names the table, figure, section or equation;
  - ``arithmetic``: ``where`` is a Python expression of numbers that must equal the number, or round
    to it at the precision written ("2.6" for 1.5 / 0.575; "300" for 1 / 0.003) (checked).
  The number may carry the suffix K, M or G as written in the notebook ("800K", "4.7G").

A number matches when it is equal, or when a backing number rounds to it at the precision written
("2.9" is backed by a printed 2.94; "14 million" and "14.5M" by 14,455,392). "57%" is also backed by
an asserted 0.57, and "9.2K" by a 9.2 printed in a column headed "(K)". Signs are ignored. Not
numbers: notebook ids (01, 02), section and exercise numbers, where a paper says something
(Section 3.3, §4.1, Table 7, Figure 1, eq. 3), and digits inside names (float32, conv2d, W_1,
VGG-16, ResNet-152). Unused lines of an allow-list fail the test too, so the lists stay exact.

Every notebook is enforced (``REVIEWED``); a new notebook adds itself when its review is done.
"""
from __future__ import annotations

import io
import math
import os
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOW = Path(__file__).resolve().parent / "notebook_numbers"
REVIEWED = ["01_neural_nets_activations", "02_convolution", "03_pooling", "04_losses", "05_backpropagation",
            "06_optimizers", "07_case_studies_lenet", "08_case_studies_alexnet_vgg",
            "09_case_studies_googlenet_resnet", "10_appendix_fast_convolution"]
KINDS = ("lecture", "paper", "arithmetic")

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "K": 1e3, "M": 1e6, "G": 1e9}
NUMBER = re.compile(r"(?<![A-WYZa-wyz_\\\d.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?)"
                    r"(?:([KMG])(?![A-Za-z\d])|(?![A-WYZa-df-wyz_\d])(?:\s+(thousand|million|billion)\b)?)")
NOT_CLAIMS = [
    re.compile(r"^#+\s*\d+[a-z]?\.", re.M),                                      # "## 4." / "### 4b."
    re.compile(r"\b(?:notebooks?|sections?|[Ee]xercises?|lectures?)\s+\d+[a-z]?"
               r"(?:(?:\s*,\s*|\s+(?:to|and)\s+)\d+[a-z]?)*"),                    # "notebooks 07 to 09"
    re.compile(r"(?:\b(?:[Ss]ections?|[Tt]ables?|[Ff]igures?|[Ee]q\.)\s+|§\s*)\d+(?:\.\d+)*[a-z]?"),  # where in a
                                                                                 # paper: Section 3.3, §4.1, Table 7
    re.compile(r"(?<=[A-Za-z]{2}-)\d+\b"),                                       # names: VGG-16, ResNet-152
    re.compile(r"\b0\d\b"),                                                      # notebook ids: 01 ... 09
    re.compile(r"(?<=[A-Za-z])_(?:\{[^}]*\}|\d+)"),                               # subscripts: W_1, x_{i}
]
POWER_OF_TEN = re.compile(r"10\^\{?(-?\d+)\}?")


def _value(token: str) -> float:
    return float(token.replace(",", ""))


def _decimals(token: str) -> int:
    mantissa = token.split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def markdown_numbers(text: str) -> list[tuple[str, float, float]]:
    """``(as written, value, precision)`` for every number in a Markdown text that is a claim."""
    text = POWER_OF_TEN.sub(lambda m: f"1e{m.group(1)}", text)
    text = re.sub(r"(?<=\d)_(?=\d)", "", text.replace("−", "-"))   # 307_200 is 307200
    for pattern in NOT_CLAIMS:
        text = pattern.sub(" ", text)
    found = []
    for m in NUMBER.finditer(text):
        token, scale_word = m.group(1), m.group(2) or m.group(3)
        scale = SCALES.get(scale_word, 1.0)
        precision = scale * 10.0 ** -_decimals(token) if ("." in token or scale_word) and "e" not in token else 0.0
        percent = "%" if text[m.end():m.end() + 1] == "%" else ""
        found.append((m.group(0) + percent, _value(token) * scale, precision))
    return found


def backing_numbers(nb) -> list[float]:
    """Numbers in the code cells (comments dropped) and in their stored outputs."""
    values = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
            code = " ".join(t.string for t in tokens if t.type != tokenize.COMMENT)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass
        texts = [code.replace("_", "")]   # 307_200 is 307200
        compared = "NBVAL_IGNORE_OUTPUT" not in cell.source and "NBVAL_SKIP" not in cell.source
        for out in cell.get("outputs", []) if compared else []:   # outputs no test compares (timings) back nothing
            texts.append(out.get("text", ""))
            texts.append(out.get("data", {}).get("text/plain", ""))
            texts.append(out.get("evalue", ""))
        for text in texts:
            for m in NUMBER.finditer(text.replace("−", "-")):
                values.append(_value(m.group(1)))
                if m.group(2) or m.group(3):   # "100K" or "62.4 million" also backs its scaled value
                    values.append(_value(m.group(1)) * SCALES[m.group(2) or m.group(3)])
    return values


def matches(value: float, precision: float, candidate: float) -> bool:
    value, candidate = abs(value), abs(candidate)
    if math.isclose(value, candidate, rel_tol=1e-9, abs_tol=0.0):
        return True
    if precision:
        return abs(candidate - value) <= precision / 2 * (1 + 1e-9)
    if value and "e" in f"{value:g}":   # scientific: equal to the digits written
        return math.isclose(float(f"{candidate:.{len(f'{value:e}'.split('e')[0].rstrip('0').replace('.', '')) - 1}e}"),
                            value, rel_tol=1e-9)
    return False


def read_allow_list(name: str) -> list[dict]:
    path = ALLOW / f"{name}.tsv"
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        assert len(parts) == 4, f"{path.name}:{n}: want number<TAB>kind<TAB>cite<TAB>where, got {line!r}"
        number, kind, cite, where = (p.strip() for p in parts)
        assert kind in KINDS, f"{path.name}:{n}: kind must be one of {KINDS}, got {kind!r}"
        value = _value(number[:-1]) * SCALES[number[-1]] if number[-1] in "KMG" else _value(number)   # "800K"
        rows.append({"line": n, "number": number, "value": value, "kind": kind, "cite": cite, "where": where})
    return rows


def _load(name: str):
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("name", REVIEWED)
def test_every_number_in_the_markdown_is_printed_asserted_or_sourced(name):
    nb = _load(name)
    backing = backing_numbers(nb)
    allowed = read_allow_list(name)
    used, unbacked = set(), []
    for written, value, precision in markdown_numbers(_markdown(nb)):
        readings = [(value, precision)]
        if written[-1] in "KMG":   # "9.2K" is also backed by a 9.2 printed in a column headed "(K)"
            readings.append((value / SCALES[written[-1]], precision / SCALES[written[-1]]))
        if written[-1] == "%":     # "57%" is also backed by an asserted 0.57
            readings.append((value / 100, precision / 100))
        if any(matches(v, p, b) for v, p in readings for b in backing):
            continue
        rows = [r for r in allowed if matches(value, precision, r["value"])]
        if rows:
            used.update(r["line"] for r in rows)
            continue
        unbacked.append(written)
    assert not unbacked, (f"{name}: numbers in the Markdown that no cell prints or asserts and "
                          f"tests/notebook_numbers/{name}.tsv does not source: {sorted(set(unbacked))}")
    stale = [r["number"] for r in allowed if r["line"] not in used]
    assert not stale, f"{name}.tsv lists numbers the notebook no longer needs: {stale}"


@pytest.mark.parametrize("name", REVIEWED)
def test_allow_list_sources_are_cited_and_checked(name):
    markdown = _markdown(_load(name))
    lecture_dir = os.environ.get("CNNLIB_LECTURE")
    lecture = "\n".join(p.read_text(encoding="utf-8") for p in Path(lecture_dir).glob("*.txt")) if lecture_dir else ""
    for row in read_allow_list(name):
        where = f"{name}.tsv:{row['line']}"
        assert row["where"], f"{where}: say where the number comes from"
        if row["kind"] == "paper":
            assert row["cite"] and row["cite"] in markdown, \
                f"{where}: cite {row['cite']!r} must appear in the notebook's Markdown (its references)"
        elif row["kind"] == "arithmetic":
            assert re.fullmatch(r"[\d\s.+\-*/()e]+", row["where"]), f"{where}: only numbers and + - * / ( )"
            result = eval(row["where"], {"__builtins__": {}})
            written = row["number"].rstrip("KMG")
            zeros = len(written) - len(written.rstrip("0")) if "." not in written else 0   # "300": to the hundred
            precision = SCALES.get(row["number"][-1], 1.0) * 10.0 ** (zeros - _decimals(written))
            assert math.isclose(result, row["value"], rel_tol=1e-3) or abs(result - row["value"]) <= precision / 2, \
                f"{where}: {row['where']} = {result:g}, which does not round to {row['number']}"
        elif lecture:
            assert row["number"] in lecture.replace("\\", ""), f"{where}: {row['number']} is not in the lecture"


def test_the_scanner_reads_numbers_as_a_reviewer_would():
    found = [(w, v) for w, v, _ in markdown_numbers(
        "## 4. Saturation\nnotebooks 07 to 09, section 4b, **02 · Convolution**: $W_1x$ in float32 on a\n"
        "640×480 image, 307,200 inputs, 14 million weights, $0.25^{10} \\approx 10^{-6}$, 2.9 to 4.1, 5x5, 39%")]
    assert found == [("640", 640), ("480", 480), ("307,200", 307200), ("14 million", 14e6), ("0.25", 0.25),
                     ("10", 10), ("1e-6", 1e-6), ("2.9", 2.9), ("4.1", 4.1), ("5", 5), ("5", 5), ("39%", 39)]
    assert matches(2.9, 0.1, 2.94) and not matches(2.9, 0.1, 2.96)
    assert matches(14e6, 1e6, 14_455_392) and not matches(14e6, 1e6, 13_455_392)
    assert matches(1e-6, 0.0, 1e-6) and not matches(6.0, 0.0, 6.4)


def test_outputs_that_nbval_does_not_compare_back_nothing():
    timed = nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nconv_table(quick=True)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="x0.98 of torch.nn\n")])
    kept = nbformat.v4.new_code_cell("print(0.64)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="0.64 and 0.67\n")])
    values = backing_numbers(nbformat.v4.new_notebook(cells=[timed, kept]))
    assert 0.98 not in values and 0.64 in values and 0.67 in values


def test_the_scanner_skips_where_a_paper_says_it_and_reads_suffixes():
    found = [(w, v) for w, v, _ in markdown_numbers(
        "the paper's Section 3.3 and §4.1, its Table 7 and Figure 1, eq. 3; VGG-16 and ResNet-152 (1e-6 stays); "
        "62.4M parameters, 35K weights, 0.46G multiply-adds, 128MB, 16.4% top-5 error")]
    assert found == [("1e-6", 1e-6), ("62.4M", 62.4e6), ("35K", 35e3), ("0.46G", 0.46e9), ("16.4%", 16.4)]
    assert [p for _, _, p in markdown_numbers("62.4M, 35K, 2.6")] == [pytest.approx(1e5), 1e3, pytest.approx(0.1)]
