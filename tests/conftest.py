import http.server
import os
import threading
from pathlib import Path

import pytest

PACK = os.environ.get("CNNKIT_DATA", "")  # read once, before any test changes the variable


@pytest.fixture
def pack():
    """The offline data pack ($CNNKIT_DATA), or skip when it is not there."""
    if not PACK or not (Path(PACK) / "fashion-mnist").is_dir():
        pytest.skip("CNNKIT_DATA does not point at the offline data pack")
    return Path(PACK).resolve()  # as cnnkit resolves the data root (it may be reached through a link)


@pytest.fixture(scope="session")
def lenet_seeds_quick(tmp_path_factory):
    """scripts/lenet_seeds.py run once in reduced mode with seeds 42 and 7: its results file, as a dict."""
    import json
    import subprocess
    import sys

    if not PACK or not (Path(PACK) / "fashion-mnist").is_dir():
        pytest.skip("CNNKIT_DATA does not point at the offline data pack")
    out = tmp_path_factory.mktemp("lenet_seeds") / "04_lenet5.json"
    script = Path(__file__).resolve().parent.parent / "scripts" / "lenet_seeds.py"
    run = subprocess.run([sys.executable, str(script), "--seeds", "42", "7", "--out", str(out)], capture_output=True,
                         text=True, timeout=1200, env=dict(os.environ, CNNKIT_QUICK="1", CNNKIT_DATA=PACK))
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return json.loads(out.read_text())


@pytest.fixture
def lenient(monkeypatch):
    """Checkers in the learner's mode: a wrong answer prints its sentence instead of raising."""
    monkeypatch.delenv("CNNKIT_STRICT_CHECKS", raising=False)


@pytest.fixture
def strict(monkeypatch):
    """Checkers as in CI: a wrong answer raises ExerciseFailed."""
    monkeypatch.setenv("CNNKIT_STRICT_CHECKS", "1")


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty, writable data root for this test, with downloads forbidden unless a test allows them."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("CNNKIT_DATA", str(root))
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    return root


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    drop_after: dict = {}
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.hits.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = self.drop_after.get(self.path)
        self.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A local HTTP server on 127.0.0.1: set .files[path] = bytes; .drop_after[path] = n to cut the body."""
    handler = type("Handler", (_Handler,), {"files": {}, "drop_after": {}, "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.files, server.drop_after, server.hits = handler.files, handler.drop_after, handler.hits
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
