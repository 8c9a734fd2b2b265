"""Data docs offline: the pages a gate builds load no script or style from the internet, and
every one they load is in the site."""

from __future__ import annotations

import glob
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from cdp.lakehouse import Lakehouse, write_arrow
from cdp.quality import run_gate
from cdp.quality.offline_docs import ASSETS, VENDORED, is_remote, offline_page
from cdp.tables import ORDERS

SUITE = """
tables:
  orders:
    - type: expect_column_values_to_not_be_null
      columns: [order_id]
"""


class Assets(HTMLParser):
    """The scripts and stylesheets a page loads, and the images it shows."""

    def __init__(self, html: str):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        elif tag == "link" and "stylesheet" in (attributes.get("rel") or ""):
            self.styles.append(attributes["href"])
        elif tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A data docs site of two silver gate runs, a day apart (the second validates the day's new
    row: a gate skips a table unchanged since it passed)."""
    root = tmp_path_factory.mktemp("docs")
    suites = root / "suites"
    suites.mkdir()
    (suites / "silver.yml").write_text(SUITE)
    lakehouse = Lakehouse(root / "lakehouse")
    for mode, orders in (("overwrite", ["o1", "o2"]), ("append", ["o3"])):
        write_arrow(lakehouse.uri(ORDERS), pa.table({"order_id": orders}), mode=mode)
        run_gate(lakehouse, "silver", suites, root / "data_docs")
    return root / "data_docs"


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_page_loads_a_remote_script_or_stylesheet(site):
    pages = _pages(site)
    assert len(pages) >= 4  # the index, the suite, two validation results
    for page in pages:
        assets = Assets(page.read_text(encoding="utf-8"))
        remote = [a for a in assets.scripts + assets.styles + assets.images if is_remote(a)]
        assert remote == [], f"{page.relative_to(site)} loads {remote}"


def test_every_script_and_stylesheet_a_page_loads_is_in_the_site(site):
    for page in _pages(site):
        assets = Assets(page.read_text(encoding="utf-8"))
        assert "static/vendor/jquery/jquery.min.js" in " ".join(assets.scripts)
        assert any("bootstrap-table.min.js" in s for s in assets.scripts)
        missing = [
            a
            for a in assets.scripts + assets.styles + assets.images
            if not (page.parent / a).is_file()
        ]
        assert missing == [], f"{page.relative_to(site)}: {missing} not in the site"


def test_the_index_still_holds_its_results_for_bootstrap_table(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count("silver-gate") >= 2
    assert ".bootstrapTable(" in index


def test_every_vendored_copy_ships_with_the_package():
    missing = [copy for copy in VENDORED.values() if not (ASSETS / copy).is_file()]
    assert missing == []
    css = (ASSETS / "fontawesome/css/all.min.css").read_text()
    assert (ASSETS / "fontawesome/webfonts/fa-solid-900.woff2").is_file()
    assert "../webfonts/fa-solid-900.woff2" in css


def test_a_remote_script_without_a_copy_is_removed_and_page_links_stay(tmp_path):
    page = tmp_path / "validations" / "run.html"
    html = (
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>'
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/dark.css" />'
        '<a href="https://greatexpectations.io">GX</a>'
    )

    offline = offline_page(html, page, tmp_path)

    assert offline == (
        '<script src="../static/vendor/jquery/jquery.min.js"></script>'
        '<a href="https://greatexpectations.io">GX</a>'
    )


def test_local_assets_and_icons_are_left_alone(tmp_path):
    html = (
        '<link rel="shortcut icon" href="./static/images/favicon.ico">'
        '<script src="static/local.js"></script>'
    )
    assert offline_page(html, tmp_path / "index.html", tmp_path) == html


def test_the_wheel_ships_the_vendored_assets():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cdp.quality"]
    shipped = {
        Path(match)
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=ASSETS.parent, recursive=True)
    }
    files = {p.relative_to(ASSETS.parent) for p in ASSETS.rglob("*") if p.is_file()}
    assert files and files - shipped == set()
