"""The server extension over HTTP: auth, opaque ids, no path from any request parameter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from tests.integration.jupyter import JupyterServer, running_server
from workbench.graphview import netron as viewer
from workbench.graphview import registry


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("root")
    (root / "inside.onnx").write_bytes(workbench.demo_model().read_bytes())
    (tmp_path_factory.getbasetemp() / "outside.onnx").write_bytes(
        workbench.demo_model().read_bytes()
    )
    with running_server(
        root, tmp_path_factory.mktemp("work"), base_url="/user/alice/", app="server"
    ) as running:
        yield running


def register(server: JupyterServer, path: Path) -> str:
    """Register the way a kernel of this server does: an entry in the shared registry."""
    import os

    previous = os.environ.get("JUPYTER_RUNTIME_DIR")
    os.environ["JUPYTER_RUNTIME_DIR"] = server.env["JUPYTER_RUNTIME_DIR"]
    try:
        return registry.register(path, path.name).id
    finally:
        if previous is None:
            del os.environ["JUPYTER_RUNTIME_DIR"]
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = previous


def test_extension_is_enabled_and_announces_itself(server) -> None:
    assert server.url.endswith("/user/alice/")
    marks = list(
        (Path(server.env["JUPYTER_RUNTIME_DIR"]) / "onnx-workbench" / "servers").glob("*.json")
    )
    assert [json.loads(m.read_text())["pid"] for m in marks] == [server.process.pid]
    assert (
        "onnx-workbench: graph viewer at /user/alice/onnx-workbench/viewer/" in server.server_log()
    )


def test_model_bytes_need_auth_and_come_by_id(server) -> None:
    model_id = register(server, workbench.demo_model())
    status, headers, body = server.get(f"onnx-workbench/api/models/{model_id}")
    assert status == 200 and body == workbench.demo_model().read_bytes()
    assert headers["Content-Length"] == str(len(body))
    assert server.get(f"onnx-workbench/api/models/{model_id}", token=False)[0] == 403
    assert server.get(f"onnx-workbench/api/models/{model_id}", method="HEAD")[0] == 200


@pytest.mark.parametrize(
    "bad_id",
    ["0" * 32, "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "%2e%2e", "a" * 200],
)
def test_unknown_ids_and_traversal_are_refused(server, bad_id: str) -> None:
    status, _, body = server.get(f"onnx-workbench/api/models/{bad_id}")
    assert status == 404
    assert b"root:" not in body


def test_paths_in_the_url_never_reach_the_disk(server) -> None:
    for path in (
        "onnx-workbench/api/models/../../../../etc/passwd",
        "onnx-workbench/api/models//etc/passwd",
        "onnx-workbench/netron/../../../../etc/passwd",
        "onnx-workbench/netron/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ):
        status, _, body = server.get(path)
        assert status in (403, 404), path
        assert b"root:" not in body


def test_registration_route(server) -> None:
    body = json.dumps({"path": str(workbench.demo_model()), "name": "demo.onnx"}).encode()
    assert (
        server.request("onnx-workbench/api/models", method="POST", body=body, token=False)[0] == 403
    )
    status, _, reply = server.request("onnx-workbench/api/models", method="POST", body=body)
    assert status == 200
    model_id = json.loads(reply)["id"]
    assert (
        server.get(f"onnx-workbench/api/models/{model_id}")[2]
        == workbench.demo_model().read_bytes()
    )
    not_a_model = json.dumps({"path": "/etc/passwd"}).encode()
    assert server.request("onnx-workbench/api/models", method="POST", body=not_a_model)[0] == 400


def test_upload_route(server) -> None:
    data = workbench.demo_model().read_bytes()
    assert (
        server.request(
            "onnx-workbench/api/models?name=up.onnx", method="PUT", body=data, token=False
        )[0]
        == 403
    )
    status, _, reply = server.request(
        "onnx-workbench/api/models?name=up.onnx", method="PUT", body=data
    )
    assert status == 200
    assert server.get(f"onnx-workbench/api/models/{json.loads(reply)['id']}")[2] == data
    assert server.request("onnx-workbench/api/models", method="PUT", body=b"not a model")[0] == 400


def test_files_are_read_only_through_the_contents_root(server) -> None:
    status, _, body = server.get("onnx-workbench/api/files/inside.onnx")
    assert status == 200 and body == workbench.demo_model().read_bytes()
    assert server.get("onnx-workbench/api/files/inside.onnx", token=False)[0] == 403
    for escape in ("../outside.onnx", "%2e%2e/outside.onnx", "%2Fetc%2Fpasswd", "nothing.onnx"):
        status, _, body = server.get(f"onnx-workbench/api/files/{escape}")
        assert status == 404, escape
        assert b"root:" not in body


def test_the_viewer_page_is_public_sandboxed_and_loads_nothing(server) -> None:
    """It holds no secret (the model comes by message), so it needs no auth; its headers
    sandbox it into an opaque origin even if opened directly, and let only the server's
    own pages frame it."""
    for token in (True, False):
        status, headers, body = server.get(
            f"onnx-workbench/viewer/{viewer.PAGE}{viewer.viewer().query}", token=token
        )
        assert status == 200 and body == viewer.viewer().page
        policy = headers["Content-Security-Policy"]
        assert f"sandbox {viewer.SANDBOX}" in policy and "frame-ancestors 'self'" in policy
        assert "allow-same-origin" not in policy
        assert headers["Referrer-Policy"] == "no-referrer"
        assert token or "Set-Cookie" not in headers
        assert "immutable" in headers["Cache-Control"]
    # Nothing else of netron's is served: the old routes are gone.
    assert server.get("onnx-workbench/netron/index.html")[0] == 404
    assert server.get("onnx-workbench/viewer/view.js", token=False)[0] in (403, 404)


def test_model_bytes_stay_behind_auth(server) -> None:
    model_id = register(server, workbench.demo_model())
    assert server.get(f"onnx-workbench/api/models/{model_id}", token=False)[0] == 403
    assert server.get("onnx-workbench/api/files/inside.onnx", token=False)[0] == 403
