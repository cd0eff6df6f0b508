"""Fixtures of the mailbox tests."""
import pytest

from ruralinfo.extensions import db
from tests.conftest import CHANGXI


@pytest.fixture
def english_farmer(make_farmer):
    """A farmer of 长溪村 whose texts are in English."""
    user = make_farmer(region_code=CHANGXI, name="李秀英", phone="+8613800138001")
    user.language = "en"
    db.session.commit()
    return user
