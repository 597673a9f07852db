//! The systemd unit in scripts/systemd/ is accepted by `systemd-analyze verify` (which works
//! without a running systemd) and keeps its hardening.

use std::path::Path;
use std::process::Command;

const UNIT: &str = include_str!("../scripts/systemd/klachtenbot.service");

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's program exists: point it at the binary just built.
    let unit = UNIT.replace("/usr/bin/klachtenbot", env!("CARGO_BIN_EXE_klachtenbot"));
    let path = dir.path().join("klachtenbot.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze not found: install the Debian package systemd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    // Warnings about the unit itself are failures too (other units of this machine may warn).
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("klachtenbot.service"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze complains: {ours:#?}");
}

#[test]
fn the_unit_is_hardened_and_notifies() {
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "User=klachtenbot",
        "StateDirectory=klachtenbot",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "EnvironmentFile=-/etc/klachtenbot/secrets.env",
        "Restart=on-failure",
        "StartLimitBurst=",
    ] {
        assert!(
            UNIT.lines().any(|l| l.starts_with(line)),
            "the unit lacks {line}"
        );
    }
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts/package")
            .exists()
    );
}
