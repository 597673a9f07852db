//! Free loopback ports for a sandbox, claimed machine-wide so parallel sandboxes never share.

use std::net::TcpListener;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixDatagram};

use anyhow::{Context, Result, bail};

/// Loopback ports for every listener of one sandbox. Dovecot's LMTP is a unix socket in the
/// sandbox dir, so no other sandbox can ever receive this one's mail.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ports {
    pub imap: u16,
    pub smtp: u16,
    pub imaps: Option<u16>,
    pub submission: Option<u16>,
    pub smtps: Option<u16>,
}

/// A machine-wide claim on a port by one sandbox, held for the sandbox's life: an
/// abstract-namespace unix socket named after the port. The kernel frees it when the
/// process dies, however it dies; no files to clean up.
///
/// Why: a port is free between picking it and the server binding it (for Postfix that is
/// after `postfix check`, 0.3-4 s on a busy machine), and again while a test has stopped a
/// server. Another sandbox that picked it then would receive this one's mail (seen with 17
/// parallel tests). Claims keep sandboxes from picking each other's ports.
#[derive(Debug)]
pub(crate) struct PortClaim {
    _socket: UnixDatagram,
}

fn claim(port: u16) -> Option<PortClaim> {
    let name = format!("klachtenbot-sandbox-port-{port}");
    let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).ok()?;
    UnixDatagram::bind_addr(&addr)
        .ok()
        .map(|socket| PortClaim { _socket: socket })
}

impl Ports {
    /// Asks the kernel for free ports: bind `127.0.0.1:0`, read the port, close
    /// (MAILSERVER.md §2), skipping ports another sandbox has claimed. All listeners are
    /// held until the end so the ports are distinct. A port taken by some other program
    /// before the servers bind it makes start fail fast, and `start` retries.
    pub fn pick(tls: bool) -> Result<(Ports, Vec<PortClaim>)> {
        let count = if tls { 5 } else { 2 };
        let mut listeners = Vec::new();
        let (mut ports, mut claims) = (Vec::new(), Vec::new());
        while ports.len() < count {
            if listeners.len() >= count * 50 {
                bail!(
                    "no unclaimed loopback ports after {} tries",
                    listeners.len()
                );
            }
            let listener =
                TcpListener::bind("127.0.0.1:0").context("Failed to reserve a loopback port")?;
            let port = listener.local_addr()?.port();
            if let Some(claimed) = claim(port) {
                ports.push(port);
                claims.push(claimed);
            }
            listeners.push(listener);
        }
        let extra = |i: usize| tls.then(|| ports[i]);
        let ports = Ports {
            imap: ports[0],
            smtp: ports[1],
            imaps: extra(2),
            submission: extra(3),
            smtps: extra(4),
        };
        Ok((ports, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_port_cannot_be_claimed_twice_until_released() {
        let (ports, claims) = Ports::pick(true).unwrap();
        let all = [
            ports.imap,
            ports.smtp,
            ports.imaps.unwrap(),
            ports.submission.unwrap(),
        ];
        assert!(all.iter().all(|&p| claim(p).is_none()));
        drop(claims);
        assert!(claim(ports.imap).is_some());
    }
}
