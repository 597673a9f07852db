//! Real storage faults for the fault tests: a small tmpfs for the register (mounted and
//! unmounted by a guard), filled by another process (`dd`), remounted read-only, or its
//! folder made unwritable. Needs root, like the mail sandbox.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of a few MB, mounted on a fresh temporary folder; unmounted (lazily, so a
/// process still holding a file there cannot block it) and removed on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=`: "4m").
    pub fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::Builder::new()
            .prefix("kb-fault-")
            .tempdir()
            .expect("create a mount point");
        run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path()));
        Tmpfs { dir }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system to the last byte from another process (`dd` until ENOSPC);
    /// returns the filler's path.
    pub fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        // dd fails with "No space left on device" by design; only the full disk matters.
        let _ = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", filler.display()))
            .args(["bs=4k", "status=none"])
            .status()
            .expect("run dd");
        assert!(self.free_bytes() < 4096, "the file system is not full");
        filler
    }

    /// Removes the filler again.
    pub fn unfill(&self) {
        std::fs::remove_file(self.path().join("filler")).expect("remove the filler");
    }

    /// Free bytes on the file system.
    pub fn free_bytes(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(self.path())
            .output()
            .expect("run df");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(u64::MAX)
    }

    /// Remounts the file system read-only (`true`) or read-write (`false`).
    pub fn read_only(&self, ro: bool) {
        let opt = if ro { "remount,ro" } else { "remount,rw" };
        run(Command::new("mount").args(["-o", opt]).arg(self.path()));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("run a mount command (needs root)");
    assert!(status.success(), "{cmd:?} failed: {status}");
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server of the test's own (initdb into a temporary folder, run as the
/// `postgres` user on a free loopback port), so stopping it touches nobody else's tests.
/// Stopped (immediately) and removed on drop.
pub struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnPostgres {
    /// Initialises and starts the server.
    pub fn start() -> OwnPostgres {
        let dir = tempfile::Builder::new()
            .prefix("kb-pg-")
            .tempdir()
            .expect("create the cluster folder");
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.path()));
        let port = free_port();
        let pg = OwnPostgres { dir, port };
        pg.as_postgres(&format!(
            "{PG_BIN}/initdb -D {} -U postgres --auth=trust -E UTF8 >/dev/null",
            pg.data().display()
        ));
        pg.start_again();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, script: &str) {
        run(Command::new("setpriv")
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--clear-groups",
                "sh",
                "-c",
            ])
            .arg(script)
            .current_dir(self.dir.path()));
    }

    /// The database URL (database `postgres`, trust authentication).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the way a crash or an operator would: `-m fast` ends every session.
    pub fn stop(&self) {
        self.as_postgres(&format!(
            "{PG_BIN}/pg_ctl -D {} -m fast -w stop >/dev/null",
            self.data().display()
        ));
    }

    /// Starts it (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        self.as_postgres(&format!(
            "{PG_BIN}/pg_ctl -D {} -w -l {}/log -o \"-p {} -k {} -c listen_addresses=127.0.0.1\" start >/dev/null",
            self.data().display(),
            self.dir.path().display(),
            self.port,
            self.dir.path().display()
        ));
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("setpriv")
            .args(["--reuid=postgres", "--regid=postgres", "--clear-groups"])
            .arg(format!("{PG_BIN}/pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// An ext4 file system in an image file, loop-mounted with `errors=remount-ro`: [`fail`]
/// makes the kernel turn it read-only under open files, as it does on a disk error (a plain
/// `mount -o remount,ro` is refused while the register is open for writing).
///
/// [`fail`]: Ext4Image::fail
pub struct Ext4Image {
    dir: tempfile::TempDir,
}

impl Ext4Image {
    /// Makes and mounts an image of `mb` megabytes.
    pub fn mount(mb: u32) -> Ext4Image {
        let dir = tempfile::Builder::new()
            .prefix("kb-ext4-")
            .tempdir()
            .expect("create a folder for the image");
        let image = Ext4Image { dir };
        run(Command::new("truncate")
            .arg(format!("-s{mb}M"))
            .arg(image.image()));
        run(Command::new("mkfs.ext4").arg("-q").arg(image.image()));
        std::fs::create_dir(image.path()).expect("create the mount point");
        image.mount_again();
        image
    }

    fn image(&self) -> PathBuf {
        self.dir.path().join("disk.img")
    }

    /// The mount point.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn mount_again(&self) {
        run(Command::new("mount")
            .args(["-o", "loop,errors=remount-ro"])
            .arg(self.image())
            .arg(self.path()));
    }

    /// Reports a file-system error to ext4, which remounts it read-only at once.
    pub fn fail(&self) {
        let out = Command::new("losetup")
            .arg("-j")
            .arg(self.image())
            .output()
            .expect("run losetup");
        let text = String::from_utf8_lossy(&out.stdout);
        let dev = text
            .split(':')
            .next()
            .and_then(|d| d.rsplit('/').next())
            .expect("the loop device");
        std::fs::write(
            format!("/sys/fs/ext4/{dev}/trigger_fs_error"),
            "kb fault test",
        )
        .expect("trigger an ext4 error");
    }

    /// What an operator does: unmount, check, mount again (read-write). Needs the files on
    /// it closed (the bot stopped).
    pub fn repair(&self) {
        run(Command::new("umount").arg(self.path()));
        // e2fsck exits 1 when it fixed something: that is the point, not a failure.
        let _ = Command::new("e2fsck").arg("-fy").arg(self.image()).output();
        self.mount_again();
    }
}

impl Drop for Ext4Image {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}
