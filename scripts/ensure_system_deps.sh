#!/usr/bin/env bash
# Make sure the Debian packages named on the command line are installed.
# As root they are installed with apt-get; otherwise this stops with the exact command to run.
set -euo pipefail
declare -A provides=([ffmpeg]=ffprobe [espeak-ng]=espeak-ng [sox]=sox [flite]=flite [chromium]=chromium [postgresql]=pg_ctlcluster [nodejs]=node)
missing=()
for pkg in "$@"; do
    cmd=${provides[$pkg]:-$pkg}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "bwv needs these Debian packages: ${missing[*]}" >&2
    echo "run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
