"""Fill empty Chinese translations from a Python file defining ``T = {msgid: msgstr}``
(a tuple msgid for plurals, a tuple msgstr for its forms). For translators' batches:
    .venv/bin/python scripts/fill_translations.py batch.py
"""
import runpy
import sys

from babel.messages.pofile import read_po, write_po

PO = "ruralinfo/translations/zh/LC_MESSAGES/messages.po"
table = runpy.run_path(sys.argv[1])["T"]
with open(PO, "rb") as handle:
    catalog = read_po(handle)
filled = 0
for message in catalog:
    if not message.id or message.id not in table:
        continue
    empty = not message.string or (isinstance(message.string, tuple) and not all(message.string))
    if empty:
        message.string = table[message.id]
        filled += 1
with open(PO, "wb") as handle:
    write_po(handle, catalog, omit_header=False, sort_output=True)
print(f"{filled} translations filled")
