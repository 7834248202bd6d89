"""Writing a report onto a real full or read-only filesystem: a clear error, the previous
report intact, no temporary file left behind. Needs root to mount a small tmpfs (CI runs
as root; elsewhere these tests skip and say why)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from tests import models

SIZE = 256 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture(scope="module")
def result():
    return workbench.benchmark(
        models.build("small_cnn"), ["cpu"], runs=200, target_ci=None, progress=False
    )


def _fill(folder: Path, leave: int) -> None:
    """Fill the filesystem until about `leave` bytes are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with (folder / "filler").open("wb") as stream:
        stream.write(b"\0" * max(free - leave, 0))


def test_a_full_disk_keeps_the_previous_report(small_disk: Path, result) -> None:
    (previous,) = result.report(str(small_disk / "bench.json"))
    before = Path(previous).read_bytes()
    _fill(small_disk, leave=4096)
    with pytest.raises(workbench.WorkbenchError, match="No space left on device") as caught:
        result.report(str(small_disk / "bench.json"))
    assert caught.value.hint.startswith("Free some disk space")
    assert "still in memory" in caught.value.hint
    assert Path(previous).read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["bench.json", "filler"]
    (small_disk / "filler").unlink()  # space again: the same result writes fine
    result.report(str(small_disk / "bench.json"))
    assert workbench.load_report(previous).results[0].stats.n == 200


def test_a_read_only_disk_keeps_the_previous_report(small_disk: Path, result) -> None:
    (previous,) = result.report(str(small_disk / "bench.html"))
    before = Path(previous).read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(workbench.WorkbenchError, match="Read-only file system") as caught:
        result.report(str(small_disk / "bench.html"), formats=("html", "json"))
    assert caught.value.hint.startswith("Choose a writable folder")
    assert Path(previous).read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["bench.html"]
