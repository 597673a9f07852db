//! The yardstick: the least a client can do for the same job. It logs in, fetches the inbox
//! in UID batches of 200 (`UID FETCH set BODY.PEEK[]`), sends one short acknowledgement per
//! mail to its sender over one SMTP connection, and moves each batch with one `UID MOVE`.
//! No database, no parsing beyond the From line, no concurrency.
//!
//! It runs on a thread of its own with a single-threaded runtime, so the CPU time of that
//! thread (`/proc/thread-self/stat`) is exactly the client's.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::TryStreamExt;
use lettre::address::Envelope;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

const BATCH: usize = 200;

/// Where to connect and who we are.
pub struct Target {
    pub imap_port: u16,
    pub smtp_port: u16,
    pub login: String,
    pub password: String,
    pub address: String,
}

/// Runs the client to the end of the inbox on a new thread; returns that thread's CPU time
/// and how many acknowledgements it sent.
pub fn run(target: Target) -> std::thread::JoinHandle<anyhow::Result<(Duration, usize)>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let before = super::procstat::thread_cpu();
        let sent = runtime.block_on(drain(&target))?;
        Ok((super::procstat::thread_cpu() - before, sent))
    })
}

async fn drain(target: &Target) -> anyhow::Result<usize> {
    let tcp = TcpStream::connect(("127.0.0.1", target.imap_port)).await?;
    tcp.set_nodelay(true)?;
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await?.context("no IMAP greeting")?;
    let mut imap = client
        .login(&target.login, &target.password)
        .await
        .map_err(|(e, _)| e)?;
    imap.create("Processed").await.ok();
    imap.select("INBOX").await?;
    let mut uids: Vec<u32> = imap.uid_search("ALL").await?.into_iter().collect();
    uids.sort_unstable();
    let mut smtp = smtp_connect(target.smtp_port).await?;
    let mut sent = 0;
    for batch in uids.chunks(BATCH) {
        let set = batch
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fetched: Vec<_> = imap
            .uid_fetch(&set, "BODY.PEEK[]")
            .await?
            .try_collect()
            .await?;
        for message in &fetched {
            let raw = message.body().context("FETCH without a body")?;
            acknowledge(&mut smtp, &target.address, raw).await?;
            sent += 1;
        }
        imap.uid_mv(&set, "Processed").await?;
    }
    smtp.quit().await.ok();
    imap.logout().await.ok();
    Ok(sent)
}

async fn smtp_connect(port: u16) -> anyhow::Result<AsyncSmtpConnection> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    let stream: Box<dyn AsyncTokioStream> = Box::new(tcp);
    Ok(
        AsyncSmtpConnection::connect_with_transport(stream, &ClientId::Domain("bench".into()))
            .await?,
    )
}

/// One SMTP transaction (MAIL, RCPT, DATA, one at a time) with a short answer.
async fn acknowledge(smtp: &mut AsyncSmtpConnection, ours: &str, raw: &[u8]) -> anyhow::Result<()> {
    let (sender, subject) = headers(raw)?;
    let reply = format!(
        "From: {ours}\r\nTo: {sender}\r\nSubject: Re: {subject}\r\n\r\nWe received your complaint.\r\n"
    );
    let envelope = Envelope::new(Some(ours.parse()?), vec![sender.parse()?])?;
    smtp.send(&envelope, reply.as_bytes()).await?;
    Ok(())
}

/// The address in the From line and the subject: a plain scan of the header lines.
fn headers(raw: &[u8]) -> anyhow::Result<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let field = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(str::trim).map(String::from))
    };
    let Some(from) = field("From:") else {
        bail!("no From line");
    };
    let address = match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].to_string(),
        _ => from,
    };
    Ok((address, field("Subject:").unwrap_or_default()))
}
