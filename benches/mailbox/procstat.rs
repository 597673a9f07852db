//! CPU time and peak memory read from `/proc` (Linux only).
//!
//! `/proc/<pid>/stat` counts in clock ticks of `USER_HZ`, which is 100 on every architecture
//! Linux runs on here (x86-64, arm64), so one tick is 10 ms.

use std::collections::HashMap;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(10);

/// Fields 14-17 of a `stat` line: utime, stime, cutime, cstime (in ticks), plus the ppid.
struct Stat {
    ppid: u32,
    own: u64,
    reaped_children: u64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is f[N - 3].
    let num = |n: usize| f.get(n - 3).and_then(|s| s.parse::<u64>().ok());
    Some(Stat {
        ppid: u32::try_from(num(4)?).ok()?,
        own: num(14)? + num(15)?,
        reaped_children: num(16)? + num(17)?,
    })
}

fn stat_of(path: &str) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// User + system CPU of one live process (its threads included, its children not).
pub fn process_cpu(pid: u32) -> Duration {
    stat_of(&format!("/proc/{pid}/stat")).map_or(Duration::ZERO, |s| TICK * s.own as u32)
}

/// User + system CPU of the calling thread alone.
pub fn thread_cpu() -> Duration {
    stat_of("/proc/thread-self/stat").map_or(Duration::ZERO, |s| TICK * s.own as u32)
}

/// CPU of the process trees under `roots` (server masters): for every live process in the
/// trees its own time plus the time of the children it has reaped. Children that exited
/// between two readings are counted through their parent's reaped time, so the difference
/// of two readings is what the servers spent in between, short-lived workers included.
pub fn tree_cpu(roots: &[u32]) -> Duration {
    let mut stats: HashMap<u32, Stat> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(s) = stat_of(&format!("/proc/{pid}/stat")) {
                stats.insert(pid, s);
            }
        }
    }
    let mut ticks = 0;
    for (pid, s) in &stats {
        let mut at = *pid;
        // Walk up to a root (or to init): is this process under one of the servers?
        let under = loop {
            if roots.contains(&at) {
                break true;
            }
            match stats.get(&at) {
                Some(p) if p.ppid > 1 => at = p.ppid,
                _ => break false,
            }
        };
        if under {
            ticks += s.own + s.reaped_children;
        }
    }
    TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// Peak resident set size (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
