"""`cli()`: the command line as a user runs it, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cli(
    *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m workbench ARGS` (in `cwd`): its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
