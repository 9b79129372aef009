#!/usr/bin/env bash
# Chromium + chromedriver from Debian's packages, for the browser tests (report page, serving page). Installs
# only when missing, as root on a Debian-like system. Exits 0 when both are there afterwards; otherwise says why
# in one line and exits 1 (scripts/test.sh then carries on outside CI, where those tests skip, and the CI run
# fails them naming what is missing).
set -uo pipefail
have() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }
have && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install_browser.sh: no Chromium + chromedriver here, and cannot install them (needs root and apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }
if ! have; then
  echo "install_browser.sh: apt-get could not install chromium and chromium-driver" >&2
  exit 1
fi
