"""The shape DESIGN.md promises."""
import pathlib

import mailbox

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_mailbox_is_ours_not_the_standard_library():
    assert pathlib.Path(mailbox.__file__).resolve().parent == ROOT / "mailbox"


def test_core_never_imports_the_feature_packages():
    offenders = []
    for path in (ROOT / "ruralinfo").rglob("*.py"):
        if path.name == "__init__.py" and path.parent == ROOT / "ruralinfo":
            continue  # create_app is the one place that wires blueprints together
        text = path.read_text(encoding="utf-8")
        if "import mailbox" in text or "from mailbox" in text or "from hotline" in text or "import hotline" in text:
            offenders.append(str(path))
    assert offenders == []
