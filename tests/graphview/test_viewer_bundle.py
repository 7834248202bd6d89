"""The viewer bundle: built from the pinned netron release, reproducibly; a page that loads
nothing and runs only its own script; checked at run time; and the offline file made of it."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path

import netron as netron_package
import onnx
import pytest

import workbench
from tests.cli import cli
from workbench.graphview import netron
from workbench.graphview.show import save_graph

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ROOT / "extensions" / "viewer"
NETRON_DIR = Path(netron_package.__file__).parent


class _Page(html.parser.HTMLParser):
    """Every tag's attributes, and the text of every <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _parse(page: bytes) -> _Page:
    parser = _Page()
    parser.feed(page.decode("utf-8"))
    return parser


def test_the_bundle_is_the_pinned_release_and_matches_its_manifest() -> None:
    manifest = json.loads((netron.BUNDLE / "manifest.json").read_text())
    assert manifest["netron"] == netron.NETRON_VERSION
    assert manifest["page"] == hashlib.sha256(netron.viewer().page).hexdigest()
    assert "netron/view.js" in manifest["inputs"] and "src/host.js" in manifest["inputs"]
    project = (ROOT / "pyproject.toml").read_text()
    # Built with it (build-system), rebuilt by the reproducibility test below (dev).
    assert project.count(f'"netron=={netron.NETRON_VERSION}"') == 2
    assert (
        json.loads((VIEWER / "package.json").read_text())["devDependencies"]["esbuild"]
        == (manifest["esbuild"])
    )


def test_the_page_loads_nothing_and_runs_only_its_own_script() -> None:
    page = _parse(netron.viewer().page)
    loading = [
        (tag, attrs)
        for tag, attrs in page.tags
        if ("src" in attrs or "href" in attrs) and tag not in ("a",)
    ]
    assert loading == [("link", {"rel": "icon", "href": "data:,"})]  # no icon request either
    (script,) = [(attrs, text) for attrs, text in page.scripts if attrs.get("type") is None]
    (policy,) = [
        attrs["content"]
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    digest = base64.b64encode(hashlib.sha256(script[1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy  # this script, and nothing else, runs
    assert "connect-src 'none'" in policy and "default-src 'none'" in policy
    assert "worker-src blob:" in policy
    # Netron's telemetry and expiry read these; the page has neither.
    assert not [a for t, a in page.tags if t == "meta" and a.get("name") in ("version", "date")]


def _build(netron_dir: Path, out: Path, version: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "the viewer's build needs Node.js (make test installs it)"
    return subprocess.run(
        [node, "build.mjs", str(netron_dir), str(out), version],
        cwd=VIEWER,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_build_is_reproducible(tmp_path) -> None:
    built = _build(NETRON_DIR, tmp_path / "again", netron.NETRON_VERSION)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "again" / netron.PAGE).read_bytes() == netron.viewer().page
    assert (tmp_path / "again" / "manifest.json").read_text() == (
        netron.BUNDLE / "manifest.json"
    ).read_text()


def test_the_build_refuses_another_netron_release_or_layout(tmp_path) -> None:
    bumped = tmp_path / "netron"
    shutil.copytree(NETRON_DIR, bumped, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    index = bumped / "index.html"
    pinned, other = f'content="{netron.NETRON_VERSION}"', 'content="0.0.1"'
    assert pinned in index.read_text()
    index.write_text(index.read_text().replace(pinned, other))
    built = _build(bumped, tmp_path / "out", netron.NETRON_VERSION)
    assert built.returncode == 1 and not (tmp_path / "out").exists()
    assert f"is 0.0.1, not the pinned {netron.NETRON_VERSION}" in built.stderr
    index.write_text(
        index.read_text()
        .replace(other, pinned)
        .replace('<script type="text/javascript" src="index.js"></script>\n', "")
    )
    built = _build(bumped, tmp_path / "out", netron.NETRON_VERSION)
    assert built.returncode == 1 and "does not have the layout this build edits" in built.stderr


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    copy = tmp_path / "bundle"
    shutil.copytree(netron.BUNDLE, copy)
    monkeypatch.setattr(netron, "BUNDLE", copy)
    netron.viewer.cache_clear()
    yield copy
    netron.viewer.cache_clear()


def test_a_bundle_for_another_release_or_changed_is_refused(bundle) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "netron": "9.2.0"}))
    with pytest.raises(workbench.WorkbenchError, match=r"built from netron 9\.2\.0") as error:
        netron.viewer()
    assert "pip install -e ." in error.value.hint
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    netron.viewer.cache_clear()
    with (bundle / netron.PAGE).open("ab") as page:
        page.write(b"<!-- changed -->")
    with pytest.raises(workbench.WorkbenchError, match="does not match its manifest"):
        netron.viewer()


def test_the_offline_page_carries_the_model_and_escapes_its_name() -> None:
    data = workbench.demo_model().read_bytes()
    hostile = '"><script>alert(1)</script>.onnx'
    page = netron.offline_page(workbench.demo_model(), hostile)
    parsed = _parse(page)
    (model,) = [
        (attrs, text) for attrs, text in parsed.scripts if attrs.get("id") == "onnx-workbench-model"
    ]
    assert model[0]["type"] == "application/octet-stream"  # data, never run
    assert model[0]["data-name"] == hostile and base64.b64decode(model[1]) == data
    assert [a for a, _ in parsed.scripts if a.get("type") is None] == [{}]  # one script runs
    assert b"<script>alert(1)" not in page
    assert re.search(rb"<title>&quot;&gt;&lt;script&gt;alert\(1\)", page)
    assert b"Trust HTML" in page  # what to do where scripts do not run yet


def test_the_offline_page_refuses_a_model_over_its_limit(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(netron, "MAX_OFFLINE_BYTES", 1000)
    big = tmp_path / "big.onnx"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(workbench.WorkbenchError, match="holds models up to 1000 B") as error:
        netron.offline_page(big, "big.onnx")
    assert "show_graph" in error.value.hint


def test_saving_both_graphs_is_refused_before_anything_is_optimized(monkeypatch, tmp_path):
    built: list[object] = []
    monkeypatch.setattr("workbench.graphview.view.optimized_model_file", lambda *a: built.append(a))
    model = workbench.load(workbench.demo_model())
    with pytest.raises(workbench.WorkbenchError, match="offline file holds one"):
        save_graph(model, tmp_path / "both.html", optimized="both")
    assert built == [] and not (tmp_path / "both.html").exists()


def test_save_writes_one_graph_and_says_what_is_wrong(tmp_path) -> None:
    view = workbench.show_graph(workbench.demo_model())
    out = view.save(tmp_path / "graph.html")
    assert out.read_bytes() == netron.offline_page(workbench.demo_model(), "tinynet.onnx")
    with pytest.raises(workbench.WorkbenchError, match="shows 2 graphs") as error:
        workbench.show_graph(workbench.demo_model(), optimized="both").save(tmp_path / "x.html")
    assert "optimized=True" in error.value.hint
    with pytest.raises(workbench.WorkbenchError, match="Could not write"):
        view.save(tmp_path / "missing-folder" / "graph.html")


def _embedded_model(page: Path) -> onnx.ModelProto:
    text = page.read_text()
    encoded = re.search(r'id="onnx-workbench-model"[^>]*>([^<]*)</script>', text).group(1)
    return onnx.load_from_string(base64.b64decode(encoded))


def test_the_cli_writes_the_graph_file(tmp_path) -> None:
    demo = workbench.demo_model()
    done = cli("graph", str(demo), "--html", str(tmp_path / "demo.html"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {tmp_path / 'demo.html'} (")
    assert len(_embedded_model(tmp_path / "demo.html").graph.node) == 14
    done = cli("graph", str(demo), "--optimized", "--html", str(tmp_path / "opt.html"))
    assert done.returncode == 0, done.stderr
    assert len(_embedded_model(tmp_path / "opt.html").graph.node) < 14  # what onnxruntime ran
    done = cli("graph", str(demo), cwd=tmp_path)  # the default name, in the current folder
    assert done.returncode == 0 and (tmp_path / "tinynet.html").is_file()
    done = cli("graph", str(demo), "--optimized", "--json", cwd=tmp_path)
    written = json.loads(done.stdout)
    assert written["path"] == "tinynet.optimized.html" and written["graph"].startswith("optimized")
    assert written["bytes"] == (tmp_path / "tinynet.optimized.html").stat().st_size


def test_the_cli_opens_the_file_in_the_default_browser(tmp_path) -> None:
    opened = tmp_path / "opened.txt"
    opener = tmp_path / "browser.sh"  # what $BROWSER names, Python's webbrowser runs
    opener.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    opener.chmod(0o755)
    out = tmp_path / "graph.html"
    done = cli(
        "graph", str(workbench.demo_model()), "--html", str(out), "--open",
        env={"BROWSER": f"{opener} %s"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert opened.read_text() == out.resolve().as_uri()


def test_the_cli_explains_what_it_cannot_do(tmp_path) -> None:
    done = cli("graph", str(tmp_path / "missing.onnx"))
    assert done.returncode == 1 and "error:" in done.stderr and "Traceback" not in done.stderr
    done = cli("graph", str(workbench.demo_model()), "--html", str(tmp_path / "no" / "x.html"))
    assert done.returncode == 1 and "Could not write" in done.stderr


def test_the_cli_draws_an_overlay_into_the_file(tmp_path) -> None:
    demo = str(workbench.demo_model())
    out = tmp_path / "profile.html"
    done = cli("graph", demo, "--overlay", "profile", "--runs", "3", "--html", str(out), "--json")
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    overlay = written["overlay"]
    assert written["graph"] == "optimized" and overlay["kind"] == "profile"
    assert overlay["matched"] == 11 and overlay["unmatched"] == []
    assert 0 < overlay["attributed_share"] <= 1
    assert len(_embedded_model(out).graph.node) == 11  # the graph the profile ran
    assert 'id="onnx-workbench-overlay"' in out.read_text()
    # The inputs a profile runs on: dims, values and ranges as everywhere else.
    done = cli("graph", demo, "--overlay", "profile", "--runs", "2", "--batch", "3",
               "--range", "image=0:1", "--html", str(out), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["overlay"]["matched"] == 11
    done = cli("graph", demo, "--overlay", "placement", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tinynet.placement.html").is_file()
    assert "Placement: execution provider per node" in done.stdout
    done = cli("graph", demo, "--overlay", "heat", cwd=tmp_path)
    assert done.returncode == 1 and "Unknown overlay 'heat'" in done.stderr
    assert "profile, placement, compare" in done.stderr and "Traceback" not in done.stderr
