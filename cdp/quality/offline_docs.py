"""Data docs that render offline: no script or style from the internet.

Great Expectations' pages load jQuery, Bootstrap, bootstrap-table, a date picker, Font
Awesome and Vega from CDNs; the index fills its tables with bootstrap-table, so offline (how
the platform runs in many malls) it is an empty page. After each build the pages it wrote are
rewritten to load copies of those files shipped with the package (``docs_assets/``, see
``docs_assets/SOURCES.md``), copied into the site's ``static/vendor/``. Remote scripts and
styles without a copy (Vega's charts, a dark theme) are removed, so that no page waits on the
network; the pages stay readable without them. Links to web pages stay links.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("docs_assets")
#: where a site keeps the copies, relative to its root (beside GX's own static/ files)
VENDOR_DIR = Path("static") / "vendor"

_BOOTSTRAP_TABLE = "https://unpkg.com/bootstrap-table@{version}/dist/"
_FILTER_CONTROL = "extensions/filter-control/bootstrap-table-filter-control"
#: remote address in GX 1.24.1's templates -> its copy under ``docs_assets/``
VENDORED = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
    _BOOTSTRAP_TABLE.format(version="1.19.1")
    + "bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    _BOOTSTRAP_TABLE.format(version="1.19.1")
    + "bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    _BOOTSTRAP_TABLE.format(version="1.19.1")
    + f"{_FILTER_CONTROL}.min.js": f"bootstrap-table/{_FILTER_CONTROL}.min.js",
    # the templates ask for 1.19.0's styles of the extension; 1.19.1's are the same rules
    _BOOTSTRAP_TABLE.format(version="1.19.0")
    + f"{_FILTER_CONTROL}.min.css": f"bootstrap-table/{_FILTER_CONTROL}.min.css",
    _BOOTSTRAP_TABLE.format(version="1.19.0")
    + f"{_FILTER_CONTROL}.css": f"bootstrap-table/{_FILTER_CONTROL}.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
}

#: a script element with a source, or a link element (its end tag, if any, included)
_ASSET_TAG = re.compile(r"<script\b[^>]*\bsrc=[^>]*>\s*</script>|<link\b[^>]*>", re.IGNORECASE)
_ADDRESS = re.compile(r"""\b(?:src|href)\s*=\s*(["'])(.*?)\1""", re.IGNORECASE)
#: on a local file, a subresource-integrity or CORS attribute makes browsers refuse the file
_REMOTE_ONLY_ATTRIBUTES = re.compile(
    r"""\s(?:integrity|crossorigin)\s*=\s*(["']).*?\1""", re.IGNORECASE
)
#: GX's logo, fetched from its web-assets bucket; the site ships the same image
_REMOTE_LOGO = re.compile(
    r"""https://great-expectations-web-assets\.[^"'\s]*/([\w.-]+\.(?:png|svg|gif))[^"'\s]*"""
)


def is_remote(address: str) -> bool:
    """Whether a page address needs the network (``http(s)://`` or protocol-relative)."""
    return address.lower().startswith(("http://", "https://", "//"))


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def _is_stylesheet_or_script(tag: str) -> bool:
    return tag.lower().startswith("<script") or "stylesheet" in tag.lower()


def _local_tag(tag: str, page: Path, site: Path) -> str:
    """The tag pointing at the vendored copy, or nothing when there is none."""
    found = _ADDRESS.search(tag)
    if not found or not is_remote(found.group(2)) or not _is_stylesheet_or_script(tag):
        return tag
    copy = VENDORED.get(found.group(2))
    if copy is None:
        log.info("data docs %s: left out %s (no offline copy)", page, found.group(2))
        return ""
    local = _relative(site / VENDOR_DIR / copy, page)
    return _REMOTE_ONLY_ATTRIBUTES.sub("", tag[: found.start(2)] + local + tag[found.end(2) :])


def offline_page(html: str, page: Path, site: Path) -> str:
    """A page's HTML with every remote script and stylesheet replaced by its copy under
    ``site``'s vendor folder (or removed when there is none) and GX's remote logo by the
    site's own."""
    html = _ASSET_TAG.sub(lambda m: _local_tag(m.group(0), page, site), html)
    logo = site / "static" / "images"
    return _REMOTE_LOGO.sub(
        lambda m: (
            _relative(logo / m.group(1), page) if (logo / m.group(1)).is_file() else m.group(0)
        ),
        html,
    )


def make_offline(site: Path, changed_since: float | None = None) -> list[Path]:
    """Copy the vendored assets into the data docs ``site`` and rewrite its pages (those
    modified at or after ``changed_since``, a time stamp; all when None) to use them; returns
    the pages rewritten."""
    shutil.copytree(ASSETS, site / VENDOR_DIR, dirs_exist_ok=True)
    rewritten = []
    for page in sorted(site.rglob("*.html")):
        if changed_since is not None and page.stat().st_mtime < changed_since:
            continue
        html = page.read_text(encoding="utf-8")
        offline = offline_page(html, page, site)
        if offline != html:
            page.write_text(offline, encoding="utf-8")
            rewritten.append(page)
    return rewritten
