"""Print the bare names of every dependency declared in pyproject.toml, one per line.

The weekly workflow installs the newest release of each, to catch drift before learners do.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def names() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [d for group in project["optional-dependencies"].values() for d in group]
    return [re.match(r"[A-Za-z0-9_.\-]+", spec).group(0) for spec in specs]


if __name__ == "__main__":
    sys.stdout.write("\n".join(names()) + "\n")
