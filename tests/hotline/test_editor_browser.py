"""In a real Chromium: an administrator opens the hotline menu from the admin view's
navigation, starts editing, adds a key under 种植业 with the plain forms, publishes, and
the published tree shows it; then a trapping change (a menu with no keys) cannot be
published and its problem is shown."""
from __future__ import annotations

import pytest

from hotline import editor_tree, menu
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
CROPS = "#draft .menu-tree > li > ul > li[data-key='1'] > a"


def log_in(page, url, phone):
    page.goto(url + "/login")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")


def add_under_crops(page, url, key, title, action, text=""):
    page.goto(url + "/admin/hotline/")
    page.click(CROPS)
    page.wait_for_url("**/admin/hotline/nodes/*")
    page.select_option("#add select[name=key]", key)
    page.fill("#add input[name=title_zh]", title)
    page.select_option("#add select[name=action]", action)
    if text:
        page.fill("#add textarea[name=text_zh]", text)
    page.click("#add button[type=submit]")
    page.wait_for_url("**/admin/hotline/nodes/*")


def publish(page):
    page.click("#publish button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector("p.flash")


def test_an_administrator_adds_a_key_under_crops_and_publishes_it(live_server, page, menu_restored):
    accounts.create_staff(name="管理员", phone="13911110009", password=PASSWORD, role_names=[roles.ADMIN],
                          actor=None, channel="cli")
    page.on("dialog", lambda dialog: dialog.accept())  # "publish the draft?" — yes
    url = live_server.url
    log_in(page, url, "13911110009")
    page.click("nav a[href='/admin/hotline/']")
    page.wait_for_url("**/admin/hotline/")
    assert page.locator("#draft .menu-tree").count() == 0
    page.click("#start-editing")
    page.wait_for_url("**/admin/hotline/")
    assert page.locator("#draft li[data-node]").count() == page.locator("#published li[data-node]").count() == 26

    add_under_crops(page, url, "4", "水稻栽培", "info", "水稻要浅水插秧，寸水活棵。")
    assert "水稻栽培" in page.inner_text("h1")
    page.goto(url + "/admin/hotline/")
    assert "水稻栽培" in page.inner_text("#draft") and "水稻栽培" not in page.inner_text("#published")
    publish(page)
    assert "水稻栽培" in page.inner_text("#published")
    assert page.locator("#draft .menu-tree").count() == 0 and page.locator("#start-editing").count() == 1
    tree = menu.published()  # what the next caller hears
    crops = menu.press(tree, tree.root_id, "1", "zh")
    assert menu.press(tree, crops.node_id, "4", "zh").say[0] == "水稻要浅水插秧，寸水活棵。"
    published_id = tree.version_id

    # a menu with no keys would trap a caller: shown, and refused
    page.click("#start-editing")
    page.wait_for_url("**/admin/hotline/")
    add_under_crops(page, url, "5", "蔬菜", "menu")
    page.goto(url + "/admin/hotline/")
    problem = "“蔬菜”"
    assert problem in page.inner_text("#problems")
    publish(page)
    flashes = " ".join(page.locator("p.flash.error").all_inner_texts())
    assert problem in flashes
    assert "蔬菜" not in page.inner_text("#published") and "蔬菜" in page.inner_text("#draft")
    assert editor_tree.published().id == published_id and editor_tree.draft() is not None


def test_a_recording_is_uploaded_and_a_50_mb_file_gets_a_clear_page(live_server, page, tmp_path,
                                                                     menu_restored):
    """Through the real server with CSRF on: the request over the app's limit is answered
    (413) with the recording's limit and a way back to the form, not a broken page."""
    from tests.hotline.test_prompts import wav_bytes

    live_server.app.instance_path = str(tmp_path / "instance")  # the recordings go here, not in ours
    accounts.create_staff(name="管理员", phone="13911110009", password=PASSWORD, role_names=[roles.ADMIN],
                          actor=None, channel="cli")
    url = live_server.url
    log_in(page, url, "13911110009")
    page.goto(url + "/admin/hotline/")
    page.click("#start-editing")
    page.wait_for_url("**/admin/hotline/")
    page.click(CROPS)
    page.wait_for_url("**/admin/hotline/nodes/*")
    node_url = page.url
    big = tmp_path / "五十兆.mp3"
    big.write_bytes(b"\x00" * (50 * 1024 * 1024))
    page.set_input_files("#recording input[type=file]", str(big))
    page.click("#recording button[type=submit]")
    page.wait_for_selector("#upload-error")
    assert "5 MB" in page.inner_text("#upload-error") and page.locator("html").get_attribute("lang") == "zh-CN"
    page.click("a[href$='#recording']")
    page.wait_for_url(node_url + "#recording")
    small = tmp_path / "提示.wav"
    small.write_bytes(wav_bytes())
    page.set_input_files("#recording input[type=file]", str(small))
    page.click("#recording button[type=submit]")
    page.wait_for_selector("audio")
    source = page.get_attribute("audio", "src")
    assert source.startswith("/voice/prompts/") and source.endswith(".wav")
    assert page.request.get(url + source).headers["content-type"] == "audio/wav"
    page.goto(url + "/admin/hotline/")
    assert page.locator("#draft [data-key='1'] > .recording").count() == 1
    assert [p.suffix for p in (tmp_path / "instance" / "hotline" / "prompts").iterdir()] == [".wav"]
