#!/bin/sh
# Chromium for the HTML report's browser test (test/reporters-html-browser.test.ts), installed the
# way the test expects it: Debian's `chromium` package. Idempotent and cheap when it is already
# there (one PATH lookup), so `npm test` runs it every time. Where it cannot install (no apt-get,
# or neither root nor password-less sudo) it says so and succeeds: the browser test then reports
# itself skipped and everything else runs.
set -eu

for browser in chromium chromium-browser google-chrome; do
  if command -v "$browser" >/dev/null 2>&1; then exit 0; fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium yourself to run the browser test" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "install-browser: not root and no password-less sudo; run: sudo apt-get install -y chromium" >&2
  exit 0
fi

echo "install-browser: installing Debian's chromium for the browser test" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
