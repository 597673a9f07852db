# shellcheck shell=bash
# Shared by scripts/test and scripts/demo (sourced, not run): installing what they need.
# Expects `set -euo pipefail` and the repository root as working directory.

# Short progress lines on stderr, prefixed with the script's name.
say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "$*"; exit 1; }

# Installs those of the given Debian packages that are missing; does nothing (and needs no
# root) when all are there. `apt-get update` runs only then, since it is slow and needs network.
ensure_packages() {
    local missing=() pkg log
    for pkg in "$@"; do
        # Only "install ok installed" counts: a removed package leaves "deinstall ok config-files".
        [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == "install ok installed" ]] ||
            missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    ((EUID == 0)) || die "missing Debian packages: ${missing[*]}; run this as root, or first: sudo apt-get install ${missing[*]}"
    say "installing ${missing[*]} (apt-get)"
    log=$(mktemp)
    # noninteractive: postfix would otherwise ask debconf questions, and CI has no stdin.
    # The lock timeout waits for another apt run instead of failing at once.
    if ! { apt-get update &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
            --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "apt-get failed to install ${missing[*]}"
    fi
    rm -f "$log"
}

# The mail servers the sandbox (src/sandbox/) runs for the integration tests and the demo:
# Dovecot (IMAP + LMTP), Postfix, and openssl for the test certificates.
# scripts/ensure-mailservers.sh owns that list when it exists.
ensure_mailservers() {
    if [[ -f scripts/ensure-mailservers.sh ]]; then
        bash scripts/ensure-mailservers.sh
    else
        ensure_packages dovecot-imapd dovecot-lmtpd postfix openssl
    fi
}

# Headless Chromium for the report test (tests/report.rs opens the HTML report in it and
# checks the screenshot), with a font so that the page has text on a bare machine.
ensure_chromium() {
    ensure_packages chromium fonts-dejavu-core
}

ensure_cargo() {
    # rustup installs into ~/.cargo/bin, which a non-login shell's PATH may lack.
    if ! command -v cargo >/dev/null && [[ -x ${HOME:-/root}/.cargo/bin/cargo ]]; then
        PATH=${HOME:-/root}/.cargo/bin:$PATH
    fi
    command -v cargo >/dev/null ||
        die "cargo not found: install Rust 1.95 with rustup (https://rustup.rs) and put ~/.cargo/bin on PATH"
}
