#!/usr/bin/env bash
# The Firefox browser tests drive Debian's firefox-esr over WebDriver BiDi; the screen-sharing
# one runs it on a virtual display (Xvfb), since headless Firefox has no screen to capture.
set -euo pipefail
if [ -x /usr/bin/firefox-esr ] && command -v Xvfb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Firefox or Xvfb is missing: run 'sudo apt-get install -y firefox-esr xvfb'" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr xvfb >/dev/null
