#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser tests (Playwright drives it
# through executable_path; Playwright's own browser download does not work offline).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests…"
  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
    || { echo "could not install chromium: the browser tests will fail" >&2; exit 1; }
else
  echo "chromium is missing and cannot be installed here (needs root and apt-get):" >&2
  echo "  sudo apt-get install chromium   # then run make test again" >&2
  exit 1
fi
