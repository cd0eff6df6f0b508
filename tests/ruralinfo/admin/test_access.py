"""Who may enter the admin view: administrators, bureau staff and approvers.
Everyone else is refused on every admin URL."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import InterestGroup
from ruralinfo.extensions import db
from tests.conftest import PASSWORD


def admin_urls(point_id: int, user_id: int, group_id: int) -> list[tuple[str, str]]:
    """Every admin URL with its method(s); ``test_the_list_covers_every_admin_route`` keeps it complete."""
    p, u, g = point_id, user_id, group_id
    return [
        ("GET", "/admin/"),
        ("GET", "/admin/points/"),
        ("GET", "/admin/points/quiet"),
        ("GET", "/admin/points/new"), ("POST", "/admin/points/new"),
        ("GET", f"/admin/points/{p}"),
        ("GET", f"/admin/points/{p}/edit"), ("POST", f"/admin/points/{p}/edit"),
        ("POST", f"/admin/points/{p}/suspend"),
        ("POST", f"/admin/points/{p}/reactivate"),
        ("POST", f"/admin/points/{p}/liaisons"),
        ("POST", f"/admin/points/{p}/liaisons/new"),
        ("POST", f"/admin/points/{p}/liaisons/{u}/remove"),
        ("GET", "/admin/accounts/"),
        ("GET", "/admin/accounts/new"), ("POST", "/admin/accounts/new"),
        ("GET", f"/admin/accounts/{u}"),
        ("POST", f"/admin/accounts/{u}/roles"),
        ("POST", f"/admin/accounts/{u}/password"),
        ("POST", f"/admin/accounts/{u}/deactivate"),
        ("POST", f"/admin/accounts/{u}/reactivate"),
        ("GET", "/admin/groups/"), ("POST", "/admin/groups/"),
        ("GET", f"/admin/groups/{g}"), ("POST", f"/admin/groups/{g}"),
        ("POST", f"/admin/groups/{g}/deactivate"),
        ("POST", f"/admin/groups/{g}/reactivate"),
        ("GET", "/admin/regions/"),
        ("GET", "/admin/audit/"),
        # broadcast topics and notice templates (1: the first shipped ones)
        ("GET", "/admin/topics/"), ("POST", "/admin/topics/"),
        ("GET", "/admin/topics/1"), ("POST", "/admin/topics/1"),
        ("POST", "/admin/topics/1/retire"), ("POST", "/admin/topics/1/reactivate"),
        ("POST", "/admin/topics/1/delete"),
        ("GET", "/admin/templates/"),
        ("GET", "/admin/templates/new"), ("POST", "/admin/templates/new"),
        ("GET", "/admin/templates/1"), ("POST", "/admin/templates/1"),
        ("POST", "/admin/templates/1/retire"), ("POST", "/admin/templates/1/reactivate"),
    ]


@pytest.fixture
def targets(make_point, make_staff):
    point = make_point()
    liaison = make_staff(roles.LIAISON, point=point, name="联络员")
    group = db.session.scalar(select(InterestGroup).limit(1))
    return point.id, liaison.id, group.id


def test_the_list_covers_every_admin_route(app, targets):
    listed = {(method, url) for method, url in admin_urls(*targets)}
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, url in listed:
        endpoint, _ = adapter.match(url, method=method)
        covered.add((endpoint, method))
    expected = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
                for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert covered == expected


def _hit(client, method: str, url: str):
    return client.get(url) if method == "GET" else client.post(url, data={"name": "x", "user_id": "1"})


def test_anonymous_visitors_are_sent_to_log_in(client, targets, db_dump):
    before = db_dump()
    for method, url in admin_urls(*targets):
        response = _hit(client, method, url)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"], (method, url)
    assert db_dump() == before


@pytest.mark.parametrize("role", [roles.LIAISON, roles.EXPERT, roles.FARMER])
def test_other_roles_are_refused(client, login, make_staff, make_farmer, targets, db_dump, role):
    if role == roles.FARMER:
        user = make_farmer(name="只是农户")  # a farmer-only account, given a password to be able to log in
        accounts.set_password(user, PASSWORD, actor=None, channel="cli")
    else:
        user = make_staff(role, name="别人")
    login(user)
    before = db_dump()
    for method, url in admin_urls(*targets):
        response = _hit(client, method, url)
        assert response.status_code == 403, (role, method, url, response.status_code)
    assert db_dump() == before


@pytest.mark.parametrize("role", [roles.ADMIN, roles.STAFF, roles.APPROVER])
def test_admin_staff_and_approvers_can_look_at_every_page(client, login, make_staff, targets, role):
    login(make_staff(role))
    for method, url in admin_urls(*targets):
        if method == "GET" and not url.endswith("/new") and not url.endswith("/edit"):
            response = client.get(url, follow_redirects=True)
            assert response.status_code == 200, (role, url)
            assert 'class="area-admin"' in response.get_data(as_text=True)


def test_admin_navigation(client, login, make_staff):
    login(make_staff(roles.STAFF))
    text = client.get("/admin/points/").get_data(as_text=True)
    for label in ("Admin view", "Liaison points", "Accounts", "Interest groups", "Regions", "Audit log",
                  "Bureau overview"):
        assert label in text
    assert 'href="/bureau/"' in text


def test_administrators_see_the_bureau_area_with_a_link_in_their_navigation(client, login, make_staff):
    login(make_staff(roles.ADMIN))
    assert 'href="/bureau/"' in client.get("/admin/points/").get_data(as_text=True)
    assert client.get("/bureau/").status_code == 200 and client.get("/bureau/texts").status_code == 200


def test_pages_use_no_inline_script_or_style(client, login, make_staff, targets):
    login(make_staff(roles.ADMIN))
    for method, url in admin_urls(*targets):
        if method == "GET":
            text = client.get(url, follow_redirects=True).get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\ssrc=)", text), url  # only scripts from files (CSP)
            assert "style=" not in text and "<style" not in text, url
            assert "http://" not in text and "https://" not in text, url
