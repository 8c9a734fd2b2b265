"""The console as people use it, in a real headless Chromium (Debian's, driven by
Playwright) against a real ``cdp serve``: a store clerk sees only their store, a marketer
builds a segment and downloads its pack, operations opens a dashboard and drills down."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import expect, sync_playwright

from cdp.lakehouse import Lakehouse
from cdp.tables import AUDIT_LOG
from tests.integration.console_support import PASSWORDS

CHROMIUM = "/usr/bin/chromium"
#: the system browser without what it would do online or on a desktop
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _logged_in(browser, server, role: str):
    context = browser.new_context(base_url=server.url, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    name, password = PASSWORDS[role]
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login")
    expect(page.locator("#who")).to_contain_text(name)
    return page, errors


def test_store_clerk_sees_only_their_store(browser, console_server):
    page, errors = _logged_in(browser, console_server, "store_staff")
    store = console_server.store
    expect(page.locator("#who")).to_contain_text(f"store:{store}")
    formats = {
        r[0]
        for r in console_server.marts(
            f"SELECT business_format FROM dim_stores WHERE store_code = '{store}'"
        )
    }
    labels = set(page.locator("#drill tr td:first-child").all_inner_texts())
    assert labels <= formats
    page.goto("/members")
    listed = set(page.locator("#member-list tr td:first-child a").all_inner_texts())
    mine = console_server.store_people()
    assert listed and listed <= mine
    # a member of another store is not found, by search or by address
    other, phone = console_server.marts(
        "SELECT one_id, phone FROM customer_360 WHERE phone IS NOT NULL AND one_id NOT IN "
        f"(SELECT one_id FROM fct_orders WHERE store_code = '{store}' AND one_id IS NOT NULL) "
        "ORDER BY one_id LIMIT 1",
        restricted=True,
    )[0]
    page.goto(f"/members/search?kind=phone&value={phone}")
    expect(page.locator("#none")).to_be_visible()
    assert page.goto(f"/members/{other}").status == 404
    # one of their own members opens, masked
    page.goto(f"/members/{min(listed)}")
    expect(page.locator("#one-id")).to_have_text(min(listed))
    assert "personal values masked" in page.content()
    assert not errors


def test_marketer_builds_a_segment_and_downloads_its_pack(browser, console_server, tmp_path):
    page, errors = _logged_in(browser, console_server, "marketer")
    page.goto("/builder")
    page.fill("#seg-name", "active_buyers_console")
    page.fill("#seg-owner", "crm-marketing")
    page.fill("#seg-description", "Active buyers, built in the console")
    page.select_option("#add-kind", "city")
    page.click("#add-condition")
    # cities are offered from the data, so nobody types 上海 for Shanghai
    offered = page.locator(".condition .values option").all_inner_texts()
    assert "Shanghai" in offered and "上海" not in offered
    page.click(".condition .remove")
    page.select_option("#add-kind", "lifecycle_stage")
    page.click("#add-condition")
    page.select_option(".condition .values", ["active"])
    active = console_server.marts(
        "SELECT count(*) FROM customer_lifecycle WHERE lifecycle_stage = 'active'"
    )[0][0]
    expect(page.locator("#status")).to_have_text(f"Valid: {active} people.")
    expect(page.locator("#yaml")).to_contain_text("lifecycle_stage")
    page.click("#save")
    page.wait_for_url("**/segments/active_buyers_console")
    saved = console_server.settings.segments_dir / "active_buyers_console.yml"
    assert "kind: lifecycle_stage" in saved.read_text()
    page.click("#export-now")
    with page.expect_download() as download:
        page.click("#download-pack")
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)
    names = zipfile.ZipFile(pack).namelist()
    assert "manifest.json" in names and "sms.csv" in names
    exports = [
        e
        for e in Lakehouse(console_server.settings.lakehouse_dir).to_arrow(AUDIT_LOG).to_pylist()
        if e["event"] == "export" and "active_buyers_console" in e["what"]
    ]
    assert any(e["actor"] == "console:marketer" for e in exports)
    assert not errors


def test_operations_opens_a_dashboard_and_drills_down(browser, console_server):
    page, errors = _logged_in(browser, console_server, "operations")
    expect(page.locator("#trend")).to_have_attribute("data-rendered", "true")
    assert page.locator("#trend canvas").count() == 1
    mall = console_server.mall
    expected = console_server.marts(
        "SELECT coalesce(sum(net_sales_fen), 0) FROM daily_sales_by_store WHERE store_code IN "
        f"(SELECT store_code FROM dim_stores WHERE mall_code = '{mall}') AND sales_date > "
        "(SELECT max(sales_date) - 7 FROM daily_sales_by_store)"
    )[0][0]
    shown = page.locator("[data-kpi=net_sales_fen] b").inner_text()
    assert shown == f"{expected / 100:,.0f}"
    # mall -> store -> business format
    first_store = page.locator("#drill tr td:first-child a").first
    store = first_store.inner_text()
    first_store.click()
    expect(page.locator("h1")).to_contain_text(f"store:{store}")
    assert page.locator("#drill tr td:first-child a").count() == 0
    assert not errors
