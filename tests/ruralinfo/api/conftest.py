"""The JSON API's fixtures: a bureau with a clerk, an approver and three grape growers
of 长溪村, a token for each, and a client that calls the API with one."""
from __future__ import annotations

import pytest

from ruralinfo.accounts import roles
from ruralinfo.api import services as tokens
from ruralinfo.broadcasts import services
from tests.conftest import CHANGXI

FARMERS = ("赵春生", "钱玉兰", "孙建华")


@pytest.fixture
def bureau(app, make_staff, make_farmer, monkeypatch):
    """Sending runs in the test's own thread, at once (no quiet hours); more than 10
    recipients need approval."""
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=10)
    monkeypatch.setattr(services, "start", services.send)
    farmers = [make_farmer(region_code=CHANGXI, name=name, groups=("葡萄",)) for name in FARMERS]
    clerk = make_staff(roles.STAFF, name="王晓", phone="+8613911110001")
    approver = make_staff(roles.APPROVER, name="刘敏", phone="+8613911110002")
    return {"clerk": clerk, "approver": approver, "farmers": farmers,
            "tokens": {"clerk": tokens.create(clerk, name="天气服务")[1],
                       "approver": tokens.create(approver, name="审批脚本")[1],
                       "farmer": tokens.create(farmers[0], name="测试")[1]}}


@pytest.fixture
def api(app, bureau):
    """``api(method, path, as_="clerk", json=…)``: a call with that person's token
    (``as_=None``: no token), English unless ``language`` is given."""
    client = app.test_client()

    def call(method: str, path: str, *, as_: str | None = "clerk", language: str = "en", headers=None, **kwargs):
        sent = {"Accept-Language": language, **(headers or {})}
        if as_ is not None:
            sent["Authorization"] = f"Bearer {bureau['tokens'][as_]}"
        return client.open("/api/v1" + path, method=method.upper(), headers=sent, **kwargs)
    return call
