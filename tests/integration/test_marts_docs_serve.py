"""`cdp marts docs --serve`: dbt's docs on a local web server that answers on 127.0.0.1, and a
single-page build that opens offline."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cdp.docs_server import DocsServerError, make_server

CDP = str(Path(sys.executable).with_name("cdp"))


def _get(url: str) -> tuple[int, str]:
    # no proxy from the environment: the request must reach this machine's server
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return response.status, response.read().decode("utf-8")


def _wait_for_address(process: subprocess.Popen) -> str:
    """The address the server prints once it listens (the lines before are dbt's)."""
    for line in process.stdout:
        if found := re.search(r"serving dbt docs on (http://127\.0\.0\.1:\d+/)", line):
            return found.group(1)
    raise AssertionError(f"the server never started: {process.stderr.read()}")


def test_marts_docs_serve_answers_on_localhost_with_the_docs_page(tmp_path):
    process = subprocess.Popen(
        [CDP, "--workspace", str(tmp_path), "marts", "docs", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address = _wait_for_address(process)
        status, page = _get(address)
        manifest_status, _ = _get(address + "manifest.json")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert status == 200 and "<title>dbt Docs</title>" in page
    assert manifest_status == 200
    assert process.returncode == 0
    static = (tmp_path / "dbt" / "target" / "static_index.html").read_text(encoding="utf-8")
    # the single page carries the manifest: nothing to fetch, so it opens from file://
    assert '"nodes"' in static and "customer_rfm" in static


def test_a_folder_without_docs_is_refused(tmp_path):
    with pytest.raises(DocsServerError, match="has no index.html to serve"):
        make_server(tmp_path, 0)


def test_a_port_in_use_is_a_sentence_naming_it(tmp_path):
    (tmp_path / "index.html").write_text("<html></html>")
    with make_server(tmp_path, 0) as taken:
        port = taken.server_address[1]
        with pytest.raises(DocsServerError, match=f"cannot serve on 127.0.0.1:{port} .*--port"):
            make_server(tmp_path, port)
