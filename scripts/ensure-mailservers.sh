#!/usr/bin/env bash
# Installs the mail servers that the local mail sandbox (src/sandbox/) runs for the
# integration tests and the demo: Dovecot (IMAP + LMTP), Postfix and openssl, from Debian's
# packages. Idempotent and silent when everything is already installed.
#
# Usage: scripts/ensure-mailservers.sh          (as root when something is missing)
# Exit codes: 0 all present (or installed), 1 not root with packages missing, 2 apt failed.
set -euo pipefail

packages=(dovecot-imapd dovecot-lmtpd postfix openssl)

missing=()
for pkg in "${packages[@]}"; do
    # "install ok installed" only; a removed package leaves "deinstall ok config-files".
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-mailservers: missing Debian packages: ${missing[*]}" >&2
    echo "ensure-mailservers: run this script as root to install them" \
        "(the mail sandbox itself also needs root: Postfix's master runs only as root)" >&2
    exit 1
fi

echo "ensure-mailservers: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# No system daemons are needed: the sandbox runs its own instances on free loopback ports,
# so a started system dovecot/postfix (on machines without policy-rc.d) does no harm.
if ! { apt-get update &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
        --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "ensure-mailservers: apt-get failed to install ${missing[*]}" >&2
    exit 2
fi
echo "ensure-mailservers: installed ${missing[*]}" >&2
