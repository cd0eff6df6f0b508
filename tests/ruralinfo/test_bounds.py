"""Numbers and dates too large for the database, in a URL, a query or a form, are no
match and no crash: 404 or the default, never a 500."""
from __future__ import annotations

import pytest

from ruralinfo.accounts import roles

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/answers/{HUGE}", f"/answers/?page={HUGE}", f"/market/?page={HUGE}"])
def test_public_pages(client, path):
    assert client.get(path).status_code in (200, 404)


def test_staff_pages(client, login, make_staff):
    login(make_staff(roles.STAFF))
    for path in (f"/bureau/hotline/?period=custom&from=9999-12-01&to=9999-12-31",
                 "/bureau/hotline/calls?since=0001-01-01&until=9999-12-31", f"/bureau/hotline/calls?page={HUGE}",
                 f"/bureau/hotline/roster?edit={HUGE}", f"/bureau/broadcasts/?page={HUGE}",
                 f"/bureau/broadcasts/new?template={HUGE}&copy={HUGE}", f"/hotline/?page={HUGE}",
                 f"/hotline/questions/{HUGE}"):
        assert client.get(path).status_code in (200, 404), path
