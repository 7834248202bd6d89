"""Capture what native code writes to the process's stdout and stderr.

onnxruntime's C++ logger writes straight to file descriptor 2, which a notebook shows as red
noise, and its Python layer prints EP errors to stdout. Probes and session creation run
inside `captured_output()`, and the text is folded into our own messages instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "2026-11-27 23:46:36.305806824 [E:onnxruntime:Default, provider_bridge_ort.cc:2458 operator()] "
_LOG_PREFIX = re.compile(r"^\S+ \S+ \[[EWIVF]:onnxruntime:[^\]]*\] ")
# Only one capture at a time: file descriptors are process-wide.
_LOCK = threading.RLock()


@dataclass
class Captured:
    """Text captured during a `captured_output()` block (filled in when the block exits)."""

    text: str = ""


@contextlib.contextmanager
def captured_output() -> Iterator[Captured]:
    """Redirect fds 1 and 2 (and Python's sys.stdout/sys.stderr) into a buffer."""
    result = Captured()
    with _LOCK, tempfile.TemporaryFile(mode="w+b") as sink:
        saved = _redirect_fds(sink.fileno())
        python_out = io.StringIO()
        try:
            with contextlib.redirect_stdout(python_out), contextlib.redirect_stderr(python_out):
                yield result
        finally:
            _restore_fds(saved)
            sink.seek(0)
            native = sink.read().decode("utf-8", "replace")
            result.text = clean(native + python_out.getvalue())


def clean(text: str) -> str:
    """Strip colour codes and onnxruntime's timestamp/severity prefixes from log text."""
    lines = (_LOG_PREFIX.sub("", _ANSI.sub("", line)).rstrip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not set(line) <= {"*"})


def _redirect_fds(target: int) -> list[tuple[int, int]]:
    saved = []
    for fd in (1, 2):
        try:
            flush_stream(fd)
            saved.append((fd, os.dup(fd)))
            os.dup2(target, fd)
        except OSError:
            continue  # no such descriptor (some embedded interpreters): nothing to silence
    return saved


def _restore_fds(saved: list[tuple[int, int]]) -> None:
    for fd, copy in saved:
        os.dup2(copy, fd)
        os.close(copy)


def flush_stream(fd: int) -> None:
    """Flush Python's buffered stream for `fd` so its text is not captured by mistake."""
    stream = sys.__stdout__ if fd == 1 else sys.__stderr__
    if stream is not None:
        with contextlib.suppress(Exception):
            stream.flush()
