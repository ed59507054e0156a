#!/usr/bin/env bash
# What the tests need outside Python: headless Chromium (Debian's chromium package), which opens the
# HTML report (tests/unit/test_report.py). Idempotent; installs with apt-get when run as root and it is
# missing. A failure is reported but does not stop `make test`: the report test then fails, saying why.
set -uo pipefail
say() { printf '\033[1m[setup-test-tools]\033[0m %s\n' "$*"; }
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "headless Chromium is missing: install Debian's chromium package (sudo apt-get install chromium)"
    exit 0
fi
say "installing headless Chromium (Debian's chromium package; a minute, once)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >/tmp/setup-test-tools.log 2>&1; then
    say "could not install chromium (see /tmp/setup-test-tools.log); the report test will fail"
fi
exit 0
