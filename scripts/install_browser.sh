#!/bin/sh
# Install what the browser tests (tests/test_browser.py) need: Debian's Chromium, driven by
# Playwright through executable_path (`playwright install` cannot download a browser here),
# and a CJK font so Chinese text renders in screenshots. Safe to run again: skips what is there.
set -eu

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install_browser.sh: run as root (or install sudo)" >&2; exit 1
    fi
fi

need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    need="$need fonts-noto-cjk"
fi

if [ -z "$need" ]; then
    echo "chromium and a CJK font are already installed"
else
    echo "installing:$need"
    $SUDO apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $need
fi
/usr/bin/chromium --version 2>/dev/null
