"""The menu editor's pages: only administrators change the menu (the admin view's other
roles look, everyone else is refused); the tree at a glance, a node's forms, publishing
with its problems listed, the history with restore; recordings uploaded, refused (not
audio, too large, far too large: a clear page, never a 500) and played."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from hotline import editor_tree
from hotline.models import DRAFT, PUBLISHED, MenuNode, MenuVersion
from ruralinfo.accounts import roles
from tests.hotline.test_editor_services import at
from tests.hotline.test_prompts import MP3_ID3, PNG, wav_bytes


@pytest.fixture
def admin(make_staff, login, menu_restored):
    user = make_staff(roles.ADMIN, name="管理员")
    login(user)
    return user


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "hotline" / "prompts"


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def draft_now() -> MenuVersion:
    return editor_tree.draft()


@pytest.mark.parametrize("who", [roles.FARMER, roles.LIAISON, roles.EXPERT])
def test_people_outside_the_admin_view_are_refused(app, client, make_staff, make_farmer, make_point, login, who):
    from ruralinfo.accounts import services as accounts
    from tests.conftest import PASSWORD

    if who == roles.FARMER:
        user = make_farmer()
        accounts.set_password(user, PASSWORD, actor=None, channel="cli")
    else:
        user = make_staff(who, point=make_point() if who == roles.LIAISON else None)
    login(user)
    for url in ("/admin/hotline/", "/admin/hotline/nodes/1", "/admin/hotline/versions"):
        assert client.get(url).status_code == 403
    assert client.post("/admin/hotline/draft").status_code == 403
    assert draft_now() is None


def test_bureau_staff_look_but_only_administrators_change(app, client, make_staff, login):
    login(make_staff(roles.STAFF, roles.APPROVER))
    index = client.get("/admin/hotline/")
    assert index.status_code == 200 and "Crops" in page_text(index)
    assert 'id="start-editing"' not in index.get_data(as_text=True)
    assert "Only administrators can change the menu." in page_text(index)
    for url in ("/admin/hotline/draft", "/admin/hotline/draft/publish", "/admin/hotline/nodes/2/delete",
                "/admin/hotline/nodes/2/recording", "/admin/hotline/versions/1/restore"):
        assert client.post(url).status_code == 403, url
        assert client.get(url).status_code == 302, url  # an action URL opened leads to its page
    assert draft_now() is None and db_count(MenuNode) == 26


def db_count(model) -> int:
    from ruralinfo.extensions import db

    return db.session.scalar(select(func.count(model.id)))


def test_the_whole_tree_at_a_glance_published_and_draft_side_by_side(app, client, admin):
    body = client.get("/admin/hotline/").get_data(as_text=True)
    assert 'id="start-editing"' in body and body.count("data-node=") == 26
    assert "Reads the common questions (published answers)" in body and "Crops" in body  # action and topic
    assert client.post("/admin/hotline/draft").status_code == 302
    body = client.get("/admin/hotline/").get_data(as_text=True)
    assert body.count("data-node=") == 52 and 'id="start-editing"' not in body
    assert 'id="ready"' in body and 'action="/admin/hotline/draft/publish"' in body
    assert client.get("/admin/hotline/nodes/1").status_code == 200  # the published node: read only
    assert 'action="/admin/hotline/nodes/1/edit"' not in client.get("/admin/hotline/nodes/1").get_data(as_text=True)


def test_an_administrator_adds_edits_moves_and_deletes_through_the_forms(app, client, admin):
    client.post("/admin/hotline/draft")
    draft = draft_now()
    crops = at(draft, "1")
    response = client.post(f"/admin/hotline/nodes/{crops.id}/add",
                           data={"key": "4", "title_zh": "水稻", "action": "info", "topic": "",
                                 "text_zh": "水稻要浅水插秧。"})
    assert response.status_code == 302
    rice = at(draft, "1", "4")
    assert response.headers["Location"].endswith(f"/admin/hotline/nodes/{rice.id}")
    page = client.get(f"/admin/hotline/nodes/{rice.id}")
    assert f'action="/admin/hotline/nodes/{rice.id}/edit"' in page.get_data(as_text=True)
    clash = client.post(f"/admin/hotline/nodes/{crops.id}/add",
                        data={"key": "4", "title_zh": "重复", "action": "question", "topic": "crops"})
    assert clash.status_code == 200
    assert "The key 4 is taken under “种植业”: free keys are 5 6 7 8 9." in page_text(clash)
    assert client.post(f"/admin/hotline/nodes/{rice.id}/edit",
                       data={"key": "5", "title_zh": "水稻种植", "title_en": "Rice", "action": "info",
                             "text_zh": "浅水插秧"}).status_code == 302
    assert (db_get(rice.id).key, db_get(rice.id).title_en) == ("5", "Rice")
    inside = client.post(f"/admin/hotline/nodes/{crops.id}/move", data={"parent_id": str(crops.id), "key": "7"})
    assert "cannot go under itself" in page_text(inside)
    assert client.post(f"/admin/hotline/nodes/{rice.id}/move",
                       data={"parent_id": str(at(draft, "3").id), "key": "4"}).status_code == 302
    assert db_get(rice.id).parent_id == at(draft, "3").id
    root = at(draft)  # the main menu's form has no key and no action: it stays a menu
    assert client.post(f"/admin/hotline/nodes/{root.id}/edit",
                       data={"title_zh": "12316热线", "prompt_zh": "您好，这里是12316。"}).status_code == 302
    assert (db_get(root.id).title_zh, db_get(root.id).action, db_get(root.id).key) == ("12316热线", "menu", "")
    deleted = client.post(f"/admin/hotline/nodes/{crops.id}/delete", follow_redirects=True)
    assert "Deleted, with what was under it: 4 places in all." in page_text(deleted)
    assert db_get(crops.id) is None and db_get(rice.id) is not None


def db_get(node_id: int) -> MenuNode | None:
    from ruralinfo.extensions import db

    db.session.expire_all()
    return db.session.get(MenuNode, node_id)


def test_publishing_lists_every_problem_then_publishes(app, client, admin):
    client.post("/admin/hotline/draft")
    draft = draft_now()
    client.post(f"/admin/hotline/nodes/{at(draft, '1').id}/add", data={"key": "4", "title_zh": "蔬菜", "action": "menu"})
    client.post(f"/admin/hotline/nodes/{at(draft, '9').id}/edit", data={"title_zh": "留言信箱", "action": "question",
                                                                   "topic": "general"})
    client.post(f"/admin/hotline/nodes/{at(draft, '6', '2').id}/delete")
    index = client.get("/admin/hotline/")
    assert "The menu “蔬菜” has no keys: a caller would be stuck in it." in page_text(index)
    body = index.get_data(as_text=True)  # what differs from the published menu is marked
    assert re.findall(r'data-node="(\d+)"[^>]*>\s*<b class="key">\d</b> <a[^>]*>([^<]+)</a>\s*<small[^>]*>[^<]*</small>'
                      r'\s*<span class="badge[^"]*" data-mark="(\w+)"', body) == [
        (str(at(draft, "1", "4").id), "蔬菜", "added"), (str(at(draft, "9").id), "留言信箱", "changed")]
    assert "Removed from the published menu: 6 政策法规 › 2 常见问题" in page_text(index)
    refused = client.post("/admin/hotline/draft/publish", follow_redirects=True)
    assert "The draft cannot be published yet:" in page_text(refused)
    assert "The menu “蔬菜” has no keys" in page_text(refused)
    assert draft_now().id == draft.id
    vegetables = at(draft, "1", "4")
    client.post(f"/admin/hotline/nodes/{vegetables.id}/add",
                data={"key": "1", "title_zh": "蔬菜提问", "action": "question", "topic": "crops"})
    done = client.post("/admin/hotline/draft/publish", data={"note": "加了蔬菜"}, follow_redirects=True)
    assert f"Version {draft.id} is published" in page_text(done)
    assert editor_tree.published().id == draft.id and editor_tree.draft() is None
    history = page_text(client.get("/admin/hotline/versions"))
    assert "加了蔬菜" in history and "管理员" in history
    audit = page_text(client.get("/admin/audit/?target_type=hotline_menu_versions"))
    assert "Hotline menu published" in audit and "1 种植业 › 4 蔬菜" in audit and "9 留言信箱" in audit


def test_an_earlier_version_is_restored_into_a_draft(app, client, admin):
    client.post("/admin/hotline/draft")
    client.post(f"/admin/hotline/nodes/{at(draft_now(), '5').id}/delete")
    client.post("/admin/hotline/draft/publish")
    assert "5" not in [b.node.key for b in editor_tree.outline(editor_tree.published()).children]
    body = client.get("/admin/hotline/versions").get_data(as_text=True)
    assert 'action="/admin/hotline/versions/1/restore"' in body
    restored = client.post("/admin/hotline/versions/1/restore", follow_redirects=True)
    assert "Version 1 is copied into a new draft" in page_text(restored)
    assert at(draft_now(), "5").title_zh == "农资打假投诉"
    again = client.post("/admin/hotline/versions/1/restore", follow_redirects=True)
    assert "A draft is being edited: publish or discard it first, then restore." in page_text(again)
    client.post("/admin/hotline/draft/publish")
    assert at(editor_tree.published(), "5").title_zh == "农资打假投诉"
    statuses = [v.status for v in editor_tree.versions()]
    assert statuses.count(PUBLISHED) == 1 and DRAFT not in statuses


def test_a_recording_is_uploaded_shown_and_played(app, client, admin, instance):
    client.post("/admin/hotline/draft")
    crops = at(draft_now(), "1")
    response = client.post(f"/admin/hotline/nodes/{crops.id}/recording", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(MP3_ID3), "种植业提示.mp3")})
    assert response.status_code == 302
    name = db_get(crops.id).recording
    assert (instance / name).read_bytes() == MP3_ID3
    assert 'aria-label="Has a recording"' in client.get("/admin/hotline/").get_data(as_text=True)
    assert f'src="/voice/prompts/{name}"' in client.get(f"/admin/hotline/nodes/{crops.id}").get_data(as_text=True)
    # replaced: the first file, named by no version, goes; the new one plays
    client.post(f"/admin/hotline/nodes/{crops.id}/recording", content_type="multipart/form-data",
                data={"file": (io.BytesIO(wav_bytes()), "新.wav")})
    newer = db_get(crops.id).recording
    assert newer.endswith(".wav") and not (instance / name).exists()
    client.post("/admin/hotline/draft/publish")
    assert client.get(f"/voice/prompts/{newer}").mimetype == "audio/wav"
    # a retired version keeps its recording: it may be restored
    client.post("/admin/hotline/draft")
    client.post(f"/admin/hotline/nodes/{at(draft_now(), '1').id}/recording/remove")
    client.post("/admin/hotline/draft/publish")
    assert (instance / newer).exists() and at(editor_tree.published(), "1").recording == ""


def test_an_upload_that_is_not_audio_says_so(app, client, admin, instance):
    client.post("/admin/hotline/draft")
    crops = at(draft_now(), "1")
    response = client.post(f"/admin/hotline/nodes/{crops.id}/recording", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PNG), "提示.mp3")})
    assert response.status_code == 200
    assert "This file is not a recording: upload an MP3 or WAV file (or Ogg)." in page_text(response)
    assert db_get(crops.id).recording == "" and not (instance.exists() and any(instance.iterdir()))


def test_a_recording_over_5_mb_is_refused_with_a_clear_message(app, client, admin, instance):
    client.post("/admin/hotline/draft")
    crops = at(draft_now(), "1")
    six_mb = MP3_ID3 + b"\x00" * (6 * 1024 * 1024)
    response = client.post(f"/admin/hotline/nodes/{crops.id}/recording", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(six_mb), "长.mp3")})
    assert response.status_code == 200
    assert "The recording is too large: 5 MB at most." in page_text(response)
    assert db_get(crops.id).recording == ""


@pytest.mark.parametrize("language, lang", [("en", "en"), ("zh", "zh-CN")])
def test_a_50_mb_upload_gets_a_clear_page_in_the_users_language(app, client, admin, instance, language, lang):
    client.post("/admin/hotline/draft")
    crops = at(draft_now(), "1")
    client.get(f"/lang/{language}")
    response = client.post(f"/admin/hotline/nodes/{crops.id}/recording", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"\x00" * (50 * 1024 * 1024)), "五十兆.mp3")})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in body and 'id="upload-error"' in body
    assert f'href="/admin/hotline/nodes/{crops.id}#recording"' in body  # back to the form
    if language == "en":
        assert "The recording is too large: 5 MB at most." in page_text(response)
    assert db_get(crops.id).recording == ""
