"""Write instance/config.py with fresh random secrets, once (``make run`` calls it).

Keep the file: IDENTITY_KEY encrypts the ID numbers in the database, and a lost
key means those numbers can no longer be read.
"""
import base64
import os
import pathlib

path = pathlib.Path(__file__).resolve().parent.parent / "instance" / "config.py"
if not path.exists():
    path.parent.mkdir(parents=True, exist_ok=True)

    def secret() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")

    path.write_text(
        "# Made by `make run`. Keep it secret and keep it safe: IDENTITY_KEY encrypts ID numbers.\n"
        f"SECRET_KEY = {secret()!r}\n"
        f"IDENTITY_KEY = {secret()!r}\n",
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    print(f"wrote {path} with new random SECRET_KEY and IDENTITY_KEY")
