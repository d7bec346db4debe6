"""Inside the sandbox: execute the whole submission for the learner's feedback, a time limit per cell.

    python -s -P -m cnnlib.grading.notebook IN.ipynb OUT.ipynb CELL_TIMEOUT

Runs every code cell in a fresh kernel (nbclient; the kernel is started with ``python -P``, so
the notebook's own folder is not on ``sys.path``). A cell that raises, or runs past CELL_TIMEOUT
seconds (the kernel is interrupted), gets its error in the notebook and the next cell runs, as
nbgrader's autograde does. OUT.ipynb is rewritten after every cell, so the cells done before
the grader's limit for the whole notebook still show. Nothing here is a verdict: the grader
judges the answers elsewhere and only shows this notebook beside its verdicts.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

KERNEL = "cnnlib-sandbox"


def kernelspec(folder: Path, python: str) -> Path:
    """Write the kernel spec the sandbox uses (``folder/kernels/cnnlib-sandbox``); return ``folder``."""
    spec = Path(folder) / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-s", "-P", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sandbox)", "language": "python"}))
    return Path(folder)


def _save(nb, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out)


async def execute(nb, out: Path, cell_timeout: int) -> None:
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name=KERNEL, allow_errors=True,
                            interrupt_on_timeout=True, startup_timeout=120, shutdown_kernel="immediate",
                            error_on_timeout={"ename": "CellTimeoutError",
                                              "evalue": f"the cell ran longer than {cell_timeout} s and was interrupted",
                                              "traceback": []},
                            resources={"metadata": {"path": str(out.parent)}})
    client.reset_execution_trackers()
    async with client.async_setup_kernel(stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.monotonic()
            try:
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                if time.monotonic() - start >= cell_timeout:
                    why = f"the grader stopped this cell after {cell_timeout} s; the next cells ran on"
                    cell.outputs.append(nbformat.v4.new_output("error", ename="CellTimeoutError", evalue=why,
                                                               traceback=[f"CellTimeoutError: {why}"]))
            except DeadKernelError:
                cell.outputs.append(nbformat.v4.new_output("error", ename="DeadKernelError",
                                                           evalue="the kernel died in this cell",
                                                           traceback=["DeadKernelError: the kernel died in this cell"]))
                _save(nb, out)
                return
            _save(nb, out)


def main(argv: list[str]) -> None:
    source, out, cell_timeout = Path(argv[0]), Path(argv[1]), int(argv[2])
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    _save(nb, out)
    run_sync(execute)(nb, out, cell_timeout)


if __name__ == "__main__":
    main(sys.argv[1:])
