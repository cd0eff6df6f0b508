"""Role names. One person may hold several."""
from flask_babel import lazy_gettext as _l

FARMER = "farmer"
LIAISON = "liaison"
EXPERT = "expert"
STAFF = "staff"
APPROVER = "approver"
ADMIN = "admin"

ALL = (FARMER, LIAISON, EXPERT, STAFF, APPROVER, ADMIN)
STAFF_ROLES = (LIAISON, EXPERT, STAFF, APPROVER, ADMIN)
BUREAU = (STAFF, APPROVER)
ADMIN_VIEW = (ADMIN, STAFF, APPROVER)

LABELS = {
    FARMER: _l("Farmer"),
    LIAISON: _l("Village liaison"),
    EXPERT: _l("Expert"),
    STAFF: _l("Bureau staff"),
    APPROVER: _l("Bureau approver"),
    ADMIN: _l("Administrator"),
}
