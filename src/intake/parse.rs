//! The only user of `mail_parser`: raw bytes in, an owned [`InboundMail`] out.
//!
//! mail-parser is best-effort (it decodes charsets, encoded words, RFC 2231 names and turns
//! HTML-only mail into text); this module keeps what the rest of the bot needs and nothing
//! borrowed from the raw bytes.

use jiff::Timestamp;
use mail_parser::decoders::html::html_to_text;
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::winmail;
use crate::domain::{EmailAddress, MessageId};

/// A sender or recipient with its display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, decoded.
    pub name: Option<String>,
    /// The address.
    pub address: EmailAddress,
}

/// A kept attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// A file name safe to show and to write to disk.
    pub filename: String,
    /// `type/subtype`.
    pub content_type: String,
    /// The decoded bytes.
    pub data: Vec<u8>,
}

/// The headers that decide whether a mail was written by a person or a machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutomationHeaders {
    /// `Auto-Submitted` (RFC 3834), lower case.
    pub auto_submitted: Option<String>,
    /// `Precedence`, lower case.
    pub precedence: Option<String>,
    /// `List-Id` or `List-Unsubscribe` present.
    pub mailing_list: bool,
    /// `X-Autoreply`, `X-Autorespond` or `X-Auto-Reply` present (Yahoo, some webmails).
    pub x_autoreply: bool,
    /// `X-Failed-Recipients` present (Exim bounces).
    pub failed_recipients: bool,
    /// `Return-Path: <>`: the null sender that DSNs and MDNs use (RFC 5321 4.5.5).
    pub null_return_path: bool,
    /// `Return-Path` is a `MAILER-DAEMON@` or `postmaster@` address, as some MTAs set on
    /// their bounces instead of the null sender.
    pub daemon_return_path: bool,
    /// The `report-type` of a `multipart/report` (delivery-status, disposition-notification,
    /// feedback-report, tlsrpt), lower case.
    pub report_type: Option<String>,
    /// The `Action:` values of a DSN's `message/delivery-status` part (RFC 3464 §2.3.3),
    /// lower case: `failed` is a bounce; `delayed`, `delivered`, `relayed`, `expanded` are not.
    pub dsn_actions: Vec<String>,
    /// `X-Auto-Response-Suppress`: alone it does not make a mail automated, but it asks us not
    /// to answer automatically.
    pub suppress_auto_response: Option<String>,
}

/// A parsed incoming mail, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundMail {
    /// Message-ID, without brackets.
    pub message_id: Option<MessageId>,
    /// In-Reply-To ids.
    pub in_reply_to: Vec<MessageId>,
    /// References ids.
    pub references: Vec<MessageId>,
    /// The first From mailbox, when it is a valid address.
    pub from: Option<Mailbox>,
    /// The From header as written, for the officer when it did not parse.
    pub from_raw: Option<String>,
    /// Reply-To, when valid.
    pub reply_to: Option<Mailbox>,
    /// To and Cc addresses that parsed.
    pub recipients: Vec<EmailAddress>,
    /// Decoded subject ("" when missing).
    pub subject: String,
    /// The Date header.
    pub date: Option<Timestamp>,
    /// The text body (the first text part, or the HTML converted to text).
    pub text: String,
    /// Whether the text came from HTML only.
    pub html_only: bool,
    /// The headers that reveal automated mail.
    pub automation: AutomationHeaders,
    /// Every `Authentication-Results` header, as written.
    pub authentication_results: Vec<String>,
    /// Attachments (not inline text bodies), including winmail.dat as is.
    pub attachments: Vec<Attachment>,
    /// Raw bytes of attached messages (message/rfc822), e.g. a forwarded original.
    pub attached_messages: Vec<Vec<u8>>,
}

/// Parses raw bytes. Returns `None` only when mail-parser finds no message at all (empty or
/// binary garbage); everything else yields a best-effort `InboundMail`.
pub fn parse(raw: &[u8]) -> Option<InboundMail> {
    let normalised = bare_cr_to_crlf(skip_preamble(raw));
    let message = MessageParser::default().parse(normalised.as_ref())?;
    Some(from_message(&message))
}

/// Old Mac mailers and some converters end lines with a bare CR, which mail-parser reads as
/// one long header line; turn every CR not followed by LF into CRLF. (The stored raw keeps
/// the original bytes.)
fn bare_cr_to_crlf(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let bare = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && raw.get(i + 1) != Some(&b'\n'));
    if !bare {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    for (i, &b) in raw.iter().enumerate() {
        out.push(b);
        if b == b'\r' && raw.get(i + 1) != Some(&b'\n') {
            out.push(b'\n');
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Skips what some stores put before the headers and mail-parser then reads as a header:
/// whitespace-only lines and an mbox `From ` separator line. The stored raw keeps them.
fn skip_preamble(mut raw: &[u8]) -> &[u8] {
    loop {
        let line_end = raw
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| i + 1);
        let line = &raw[..line_end];
        let blank = !line.is_empty() && line.iter().all(u8::is_ascii_whitespace);
        if blank || line.starts_with(b"From ") {
            raw = &raw[line_end..];
        } else {
            return raw;
        }
    }
}

fn from_message(m: &Message<'_>) -> InboundMail {
    // Folded, so the same mail read with LF (MTA pipe) or CRLF (IMAP) line ends is equal.
    let from_raw = m.header_raw("From").map(clean_line);
    let html_only = m.text_body_count() == 0 && m.html_body_count() > 0
        || m.text_bodies()
            .next()
            .is_some_and(|p| matches!(p.body, PartType::Html(_)));
    let html_text = html_only
        .then(|| m.body_html(0))
        .flatten()
        .filter(|h| BLOCK_TAG.as_ref().is_some_and(|re| re.is_match(h)))
        .map(|h| collapse_blank_lines(&html_to_text(&break_blocks(&h))));
    let raw_attachments = attachments(m);
    // Outlook may send the body only inside winmail.dat.
    let tnef_body = || {
        raw_attachments
            .iter()
            .filter(|a| winmail::is_tnef(&a.content_type, &a.filename))
            .find_map(|a| winmail::read(&a.data).and_then(|u| u.body))
    };
    let text = html_text
        .or_else(|| m.body_text(0).map(|t| t.into_owned()))
        .filter(|t| !t.trim().is_empty())
        .or_else(tnef_body)
        .unwrap_or_default();
    InboundMail {
        message_id: m.message_id().and_then(|id| MessageId::parse(id).ok()),
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        from: m.from().and_then(first_mailbox),
        from_raw,
        reply_to: m.reply_to().and_then(first_mailbox),
        recipients: m
            .to()
            .into_iter()
            .chain(m.cc())
            .flat_map(all_addresses)
            .collect(),
        subject: m.subject().map(clean_line).unwrap_or_default(),
        date: m
            .date()
            .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        // NUL is valid in a mail body but not in a PostgreSQL TEXT column.
        text: text.replace("\r\n", "\n").replace('\0', ""),
        html_only,
        automation: automation(m),
        authentication_results: m
            .header_values("Authentication-Results")
            .filter_map(|v| v.as_text().map(str::to_string))
            .collect(),
        attachments: expand_tnef(raw_attachments),
        attached_messages: attached_messages(m),
    }
}

/// Block tags (table rows and cells, list items) whose boundaries mail-parser's
/// HTML-to-text conversion ignores: a contact form's `<td>Naam</td><td>Anna</td>` would become
/// "NaamAnna". A `<br>` before each keeps every cell on a line of its own.
static BLOCK_TAG: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)<(/?(?:tr|td|th|li|dt|dd|table)\b)").ok());

fn break_blocks(html: &str) -> String {
    match BLOCK_TAG.as_ref() {
        Some(re) => re.replace_all(html, "<br><$1").into_owned(),
        None => html.to_string(),
    }
}

/// At most one blank line in a row: the breaks before table cells leave many.
fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blanks = 0;
    for line in text.lines() {
        blanks = if line.trim().is_empty() {
            blanks + 1
        } else {
            0
        };
        if blanks <= 1 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn ids(v: &HeaderValue<'_>) -> Vec<MessageId> {
    let list: Vec<&str> = match v {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(|s| s.as_ref()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|s| MessageId::parse(s).ok())
        .collect()
}

fn first_mailbox(a: &Address<'_>) -> Option<Mailbox> {
    let addr = a.first()?;
    let address = EmailAddress::parse(addr.address.as_deref()?).ok()?;
    let name = addr
        .name
        .as_deref()
        .map(clean_line)
        .filter(|n| !n.is_empty());
    Some(Mailbox { name, address })
}

fn all_addresses(a: &Address<'_>) -> Vec<EmailAddress> {
    let list: Vec<_> = match a {
        Address::List(l) => l.iter().collect(),
        Address::Group(g) => g.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    list.into_iter()
        .filter_map(|a| {
            a.address
                .as_deref()
                .and_then(|s| EmailAddress::parse(s).ok())
        })
        .collect()
}

/// Folds whitespace and drops control characters: subjects and names go into our headers
/// and logs, where a stray CR/LF would do harm.
fn clean_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

fn lower_text(m: &Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_ascii_lowercase())
}

fn automation(m: &Message<'_>) -> AutomationHeaders {
    let report_type = m
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .map(|ct| {
            ct.attribute("report-type")
                .unwrap_or("unknown")
                .to_ascii_lowercase()
        });
    let has = |name: &str| m.header_raw(name).is_some();
    AutomationHeaders {
        auto_submitted: lower_text(m, "Auto-Submitted"),
        precedence: lower_text(m, "Precedence"),
        mailing_list: has("List-Id") || has("List-Unsubscribe") || list_sender(m),
        x_autoreply: has("X-Autoreply") || has("X-Autorespond") || has("X-Auto-Reply"),
        failed_recipients: has("X-Failed-Recipients"),
        null_return_path: m.header_raw("Return-Path").is_some_and(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .is_empty()
        }),
        daemon_return_path: m.header_raw("Return-Path").is_some_and(|v| {
            let local = v
                .trim()
                .trim_start_matches('<')
                .split('@')
                .next()
                .unwrap_or("");
            local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
        }),
        report_type,
        dsn_actions: dsn_actions(m),
        suppress_auto_response: lower_text(m, "X-Auto-Response-Suppress"),
    }
}

fn dsn_actions(m: &Message<'_>) -> Vec<String> {
    m.parts
        .iter()
        .filter(|p| p.is_content_type("message", "delivery-status"))
        .flat_map(|p| {
            String::from_utf8_lossy(p.contents())
                .lines()
                .filter_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.trim()
                        .eq_ignore_ascii_case("action")
                        .then(|| value.trim().to_ascii_lowercase())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Old list servers (Majordomo, LISTSERV) set no List-Id but send as `owner-list@` or
/// `list-bounces@`.
fn list_sender(m: &Message<'_>) -> bool {
    m.sender()
        .and_then(|a| a.first())
        .and_then(|a| a.address.as_deref())
        .is_some_and(|a| {
            let local = a.split('@').next().unwrap_or("").to_ascii_lowercase();
            local.starts_with("owner-")
                || local.ends_with("-owner")
                || local.ends_with("-bounces")
                || local.ends_with("-request")
        })
}

fn attachments(m: &Message<'_>) -> Vec<Attachment> {
    m.attachments()
        .enumerate()
        .filter(|(_, p)| !matches!(p.body, PartType::Message(_)))
        .map(|(i, p)| {
            let content_type = p
                .content_type()
                .map(|ct| {
                    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream"))
                        .to_ascii_lowercase()
                })
                .unwrap_or_else(|| "application/octet-stream".into());
            Attachment {
                filename: safe_filename(p.attachment_name(), i + 1),
                content_type,
                data: p.contents().to_vec(),
            }
        })
        .collect()
}

/// Replaces every readable winmail.dat by the files inside it, which are then stored like
/// any other attachment; one that cannot be read is kept as it is, so nothing is lost.
fn expand_tnef(list: Vec<Attachment>) -> Vec<Attachment> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let inner = winmail::is_tnef(&a.content_type, &a.filename)
            .then(|| winmail::unpack(&a.data))
            .flatten();
        match inner {
            Some(files) => out.extend(files.into_iter().enumerate().map(|(i, f)| Attachment {
                filename: safe_filename(Some(&f.name), i + 1),
                content_type: f.content_type.to_string(),
                data: f.data,
            })),
            None => out.push(a),
        }
    }
    out
}

fn attached_messages(m: &Message<'_>) -> Vec<Vec<u8>> {
    m.attachments()
        .filter_map(|p| match &p.body {
            PartType::Message(inner) => Some(inner.raw_message().to_vec()),
            _ => None,
        })
        .collect()
}

/// A file name that is safe to show and to write: no directories, no control or reserved
/// characters, no leading dots, at most 100 characters; `attachment-N.bin` when nothing is
/// left.
pub fn safe_filename(name: Option<&str>, n: usize) -> String {
    let base = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || "<>:\"|?*".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return format!("attachment-{n}.bin");
    }
    if trimmed.chars().count() <= 100 {
        return trimmed.to_string();
    }
    // Keep the extension: people recognise a file by it.
    let ext: String = trimmed
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 10)
        .unwrap_or("")
        .to_string();
    let keep = 100 - ext.len().min(10) - 1;
    let stem: String = trimmed.chars().take(keep).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
