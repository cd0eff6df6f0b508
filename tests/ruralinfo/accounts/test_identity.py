"""ID numbers: the checks, the encryption and the masking."""
from datetime import date

import pytest
from sqlalchemy import select

from ruralinfo.accounts import identity
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db

TODAY = date(2026, 11, 23)
# Well-formed numbers: the GB 11643 example and Cixi numbers with their check characters.
VALID = ["11010519491231002X", "440524188001010014", identity.compose("330282", date(1980, 1, 1), 123),
         identity.compose("330282", date(2001, 2, 28), 42)]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number):
    assert identity.validate(number, today=TODAY) == number


def test_input_is_normalized_full_width_spaces_lower_x():
    assert identity.validate("１１０１０５ １９４９１２３１ ００２ｘ", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize("number,code", [
    ("11010519491231002Y", "chars"),
    ("110105194912310021", "check"),          # wrong check character
    ("110105194902300024", "date"),           # 30 February
    ("110105194913010028", "date"),           # month 13
    ("990105194912310026", "region"),         # no region 990105
    ("110105203001010010", "future"),         # born in 2030
    ("110105491231002", "legacy15"),          # old 15-digit number
    ("1101051949123100", "length"),
    ("", "empty"),
])
def test_invalid_numbers_give_their_reason(number, code):
    with pytest.raises(identity.IdNumberError) as err:
        identity.validate(number, today=TODAY)
    assert err.value.code == code


def test_region_prefix_known_only_to_our_tree_is_accepted():
    number = identity.compose("990101", date(1990, 1, 1), 1)
    with pytest.raises(identity.IdNumberError):
        identity.validate(number, today=TODAY)
    assert identity.validate(number, today=TODAY, known_county=lambda p: p == "990101") == number


def test_mask_shows_region_and_last_two_only():
    assert identity.mask("11010519491231002X") == "110105**********2X"


def test_vault_round_trip_and_digest_are_keyed():
    one, two = identity.IdentityVault("k" * 40), identity.IdentityVault("j" * 40)
    blob = one.encrypt(VALID[0])
    assert VALID[0].encode() not in blob
    assert one.decrypt(blob) == VALID[0]
    assert one.encrypt(VALID[0]) != blob  # a fresh nonce every time
    assert one.digest(VALID[0]) != two.digest(VALID[0])
    with pytest.raises(Exception):
        two.decrypt(blob)


def test_database_never_holds_the_plain_number(app, make_farmer, db_dump):
    number = identity.compose("330282", date(1966, 3, 4), 77)
    farmer = make_farmer(id_number=number)
    dump = db_dump()
    assert number not in dump
    assert number[6:14] not in dump  # not even the birth date digits
    stored = db.session.scalar(select(User).where(User.id == farmer.id))
    assert stored.id_masked == identity.mask(number)
    assert identity.vault().decrypt(stored.id_cipher) == number
