"""`cli()`: the command line as a user runs it, in a subprocess."""

from __future__ import annotations

import subprocess
import sys


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m workbench ARGS`: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
