"""Build hook: the graph viewer bundle, from the pinned netron release, with esbuild (npm).

Writes workbench/graphview/bundle/ (netron-viewer.html, manifest.json) from the netron
package of the build environment (a build requirement) and extensions/viewer/. Wheels carry
the result, so users of a wheel need neither node nor netron. An editable install without
node only warns: everything but the graph view works, and the view says how to build it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ViewerBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Runs extensions/viewer/build.mjs before the wheel is assembled."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the bundle (or, for an editable install without node, say why not)."""
        root = Path(self.root)
        out = root / "workbench" / "graphview" / "bundle"
        build_data["artifacts"].append("workbench/graphview/bundle/")
        try:
            build(root, out)
        except (RuntimeError, ImportError, OSError, subprocess.CalledProcessError) as error:
            if version != "editable":
                raise
            warnings.warn(f"The graph viewer was not built: {error}", stacklevel=1)


def build(root: Path, out: Path) -> None:
    """Install esbuild (locked) when missing, then bundle netron into `out`.

    Nothing is done when `out` already holds a build of the pinned netron from the current
    sources (an sdist carries one: a wheel built from it needs no node and no network).
    """
    pinned = re.search(
        r'NETRON_VERSION = "([^"]+)"',
        (root / "workbench" / "graphview" / "netron.py").read_text(encoding="utf-8"),
    )
    if pinned is None:
        raise RuntimeError("workbench/graphview/netron.py lost its NETRON_VERSION.")
    viewer = root / "extensions" / "viewer"
    if _up_to_date(out, viewer, pinned.group(1)):
        return
    import netron  # noqa: PLC0415  (a build requirement, not a runtime one)

    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError("it needs Node.js 20+ and npm (https://nodejs.org), then reinstall.")
    if not (viewer / "node_modules" / "esbuild").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=viewer, check=True)
    subprocess.run(
        [
            node,
            "build.mjs",
            str(Path(netron.__file__).parent),
            str(out),
            pinned.group(1),
        ],
        cwd=viewer,
        check=True,
    )


def _up_to_date(out: Path, viewer: Path, version: str) -> bool:
    """Whether `out` was built from this netron release and these sources, and is whole."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        page = (out / "netron-viewer.html").read_bytes()
        ours = {
            name: hashlib.sha256((viewer / name).read_bytes()).hexdigest()
            for name in manifest["inputs"]
            if not name.startswith("netron/")
        }
    except (OSError, ValueError, KeyError):
        return False
    return (
        manifest.get("netron") == version
        and manifest.get("page") == hashlib.sha256(page).hexdigest()
        and bool(ours)
        and all(manifest["inputs"][name] == digest for name, digest in ours.items())
    )
