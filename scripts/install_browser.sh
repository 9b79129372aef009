#!/usr/bin/env bash
# Chromium + chromedriver from Debian's packages, for the report page's browser tests. Installs only when
# missing and only as root on a Debian-like system; otherwise says so, and those tests skip.
set -uo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: no Chromium here and cannot install it (needs root and apt-get); the browser tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } ||
  echo "note: installing chromium failed; the browser tests will skip" >&2
exit 0
