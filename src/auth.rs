//! Is this sender really who it says? A `From:` address is easy to forge, so commands from
//! officers and staff need more than the address (PROCEDURE.md, "Who may do what by mail"):
//!
//! - an `Authentication-Results` header (RFC 8601) written by *our own* receiving server with
//!   a DKIM or DMARC pass for the sender's domain, or
//! - a reply that carries the signed token of one of our own mails in `In-Reply-To` or
//!   `References`: only someone who received that mail can know it (osTicket's idea).
//!
//! Pure functions: the caller passes the headers, the ids and the settings.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::AuthSettings;
use crate::domain::{EmailAddress, MessageId, Reference};

/// One parsed `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// Who wrote the results, in lower case. Empty when the header names no one: Microsoft 365
    /// writes its results without an authserv-id, which RFC 8601 does not allow.
    pub authserv_id: String,
    /// The results in header order; empty for `none`.
    pub results: Vec<MethodResult>,
}

/// One `method=result` of a header with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// `dkim`, `dmarc`, `spf`, `arc`, ... in lower case, without a method version.
    pub method: String,
    /// `pass`, `fail`, `none`, ... in lower case.
    pub result: String,
    /// `ptype.property` (lower case, e.g. `header.d`, `smtp.mailfrom`) and value, unquoted.
    pub props: Vec<(String, String)>,
}

impl MethodResult {
    /// The value of the first property called `name` (e.g. `header.d`).
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a sender proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Our receiving server saw a DKIM or DMARC pass for the sender's domain.
    Authenticated,
    /// The reply carries the signed token of a mail we sent to this sender.
    Token,
    /// Only the address; accepted because authentication is not required in config.
    AddressOnly,
}

impl Proof {
    /// A stable name for timelines and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Authenticated => "authenticated",
            Proof::Token => "token",
            Proof::AddressOnly => "address_only",
        }
    }
}

/// Parses one `Authentication-Results` header value (RFC 8601 §2.2): comments anywhere,
/// folding whitespace, quoted values, method versions (`dkim/1`), `none`. Properties are
/// `ptype.property=value`; other words (`reason=`, Microsoft's `action=`) are skipped.
/// Returns `None` when the value is not an `Authentication-Results` header at all.
pub fn parse_authentication_results(header: &str) -> Option<AuthResults> {
    let clean = strip_comments(header);
    let mut segments = split_unquoted(&clean, ';').into_iter();
    let first = segments.next()?;
    let mut results = Vec::new();
    let authserv_id = if first.contains('=') {
        // An authserv-id is a token, which cannot hold '=': this is a result without an id.
        results.extend(parse_resinfo(&first));
        String::new()
    } else {
        let mut words = words(&first).into_iter();
        let id = unquote(&words.next()?).to_ascii_lowercase();
        let version_ok = words
            .next()
            .is_none_or(|v| v.chars().all(|c| c.is_ascii_digit()));
        if !version_ok || words.next().is_some() {
            return None;
        }
        id
    };
    results.extend(segments.filter_map(|s| parse_resinfo(&s)));
    if authserv_id.is_empty() && results.is_empty() {
        return None;
    }
    Some(AuthResults {
        authserv_id,
        results,
    })
}

/// Whether a header written by `authserv_id` (case-insensitive) has `dkim=pass` for `domain`
/// (`header.d` equal to it, or `header.i` in it or a subdomain of it) or `dmarc=pass` with
/// `header.from` equal to it.
///
/// Headers with any other authserv-id are ignored: anyone on the way (the sender included)
/// can add an `Authentication-Results` header claiming a pass, and only our own server's
/// verdict is worth something. RFC 8601 §5 has the receiving server delete headers that
/// carry its own authserv-id before adding its own, which makes ours unforgeable; that is a
/// requirement on how the receiving server is set up. Results without an authserv-id
/// (Microsoft 365) cannot be told apart from forged ones and never count. SPF is not used:
/// it vouches for the envelope sender, which need not be the `From:` address.
pub fn authenticated_domain_pass(headers: &[String], authserv_id: &str, domain: &str) -> bool {
    let ours = authserv_id.trim();
    let domain = domain.trim().trim_end_matches('.');
    if ours.is_empty() || domain.is_empty() {
        return false;
    }
    headers
        .iter()
        .filter_map(|h| parse_authentication_results(h))
        .filter(|r| r.authserv_id.eq_ignore_ascii_case(ours))
        .flat_map(|r| r.results)
        .any(|m| passes_for(&m, domain))
}

fn passes_for(m: &MethodResult, domain: &str) -> bool {
    if m.result != "pass" {
        return false;
    }
    match m.method.as_str() {
        // A verifier only writes a header.i that lies within header.d (RFC 6376 §3.5), and
        // Gmail writes header.i without header.d, so either names the signer.
        "dkim" => {
            m.prop("header.d").is_some_and(|d| same_domain(d, domain))
                || m.prop("header.i").is_some_and(|i| identity_in(i, domain))
        }
        "dmarc" => m
            .prop("header.from")
            .is_some_and(|d| same_domain(d, domain)),
        _ => false,
    }
}

fn same_domain(value: &str, domain: &str) -> bool {
    let value = value.rsplit_once('@').map_or(value, |(_, d)| d);
    value.trim_end_matches('.').eq_ignore_ascii_case(domain)
}

fn identity_in(identity: &str, domain: &str) -> bool {
    let Some((_, host)) = identity.rsplit_once('@') else {
        return false;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// Hex digits of the token in our Message-IDs: 64 bits of HMAC-SHA256. Each guess costs the
/// forger a mail that the officer sees refused, so 2^64 is far beyond reach, and the id stays
/// short enough for clients that truncate long headers.
const TOKEN_HEX: usize = 16;

/// Hex digits of the random part of our Message-IDs (a `u64`).
const RANDOM_HEX: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The MAC over "REF\nrecipient\nrandom"; `None` for an empty secret, which would make the
/// token forgeable. (HMAC takes keys of any other length, so `new_from_slice` cannot fail.)
fn token_mac(
    secret: &[u8],
    reference: Reference,
    recipient: &str,
    random: &str,
) -> Option<HmacSha256> {
    if secret.is_empty() {
        return None;
    }
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    let recipient = recipient.to_lowercase();
    mac.update(format!("{reference}\n{recipient}\n{random}").as_bytes());
    Some(mac)
}

/// The token for a mail about `reference` to `recipient` whose Message-ID has the random part
/// `random`: the first 16 hex digits of HMAC-SHA256(secret, "REF\nrecipient\nrandom").
/// `None` for an empty secret, which would make the token forgeable.
pub(crate) fn message_token(
    secret: &[u8],
    reference: Reference,
    recipient: &EmailAddress,
    random: &str,
) -> Option<String> {
    let tag = token_mac(secret, reference, recipient.as_ref(), random)?.finalize();
    Some(hex::encode(&tag.into_bytes()[..TOKEN_HEX / 2]))
}

/// Whether any of `ids` (the reply's `In-Reply-To` and `References`) is a Message-ID on our
/// `domain` of the form `kb.<reference>.<random>.<token>@domain` whose token was made for
/// `reference` and `sender`. The tag is compared in constant time.
pub fn token_proves(
    ids: &[MessageId],
    reference: Reference,
    sender: &EmailAddress,
    domain: &str,
    secret: &[u8],
) -> bool {
    !secret.is_empty()
        && ids
            .iter()
            .any(|id| id_proves(id.as_ref(), reference, sender, domain, secret))
}

fn id_proves(
    id: &str,
    reference: Reference,
    sender: &EmailAddress,
    domain: &str,
    secret: &[u8],
) -> bool {
    let Some((local, host)) = id.rsplit_once('@') else {
        return false;
    };
    if !host.eq_ignore_ascii_case(domain.trim()) {
        return false;
    }
    let Some(rest) = local.strip_prefix("kb.") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let [id_ref, random, token] = parts.as_slice() else {
        return false;
    };
    let is_hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    // Exactly 16 digits: `verify_truncated_left` would accept a tag of any length, even one
    // byte, which would make the token guessable.
    if Reference::parse(id_ref).ok() != Some(reference)
        || !is_hex(random, RANDOM_HEX)
        || !is_hex(token, TOKEN_HEX)
    {
        return false;
    }
    let Ok(tag) = hex::decode(token) else {
        return false;
    };
    let random = random.to_ascii_lowercase();
    token_mac(secret, reference, sender.as_ref(), &random)
        .is_some_and(|mac| mac.verify_truncated_left(&tag).is_ok())
}

/// Decides whether a command mail from `sender` may be trusted beyond its address.
///
/// `Authenticated` when our server (`settings.authserv_id`) saw a DKIM or DMARC pass for the
/// sender's domain; else `Token` when a reply id carries the token of our mail about
/// `reference` to the sender; else `AddressOnly` when `require_authentication` is off. With
/// it on, the error is the reason for the refusal, in English, for the officer.
pub fn check_sender(
    mail_auth_headers: &[String],
    reply_ids: &[MessageId],
    sender: &EmailAddress,
    reference: Option<Reference>,
    settings: &AuthSettings,
    domain: &str,
) -> Result<Proof, String> {
    let sender_domain = sender.domain();
    let authserv_id = settings.authserv_id.as_deref();
    if authserv_id.is_some_and(|id| authenticated_domain_pass(mail_auth_headers, id, sender_domain))
    {
        return Ok(Proof::Authenticated);
    }
    let token = match (reference, settings.token_secret.as_ref()) {
        (Some(r), Some(secret)) => {
            token_proves(reply_ids, r, sender, domain, secret.expose().as_bytes())
        }
        _ => false,
    };
    if token {
        return Ok(Proof::Token);
    }
    if !settings.require_authentication {
        return Ok(Proof::AddressOnly);
    }
    Err(format!(
        "no DKIM/DMARC pass for {sender_domain} from {} and no signed token of our mail",
        authserv_id.unwrap_or("our receiving server (no authserv-id configured)")
    ))
}

/// Replaces RFC 5322 comments (nested parentheses, `\` escapes) with a space, leaving quoted
/// strings alone, and unfolds line breaks.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' if depth == 0 => out.push(' '),
            '\\' if depth > 0 => {
                chars.next();
            }
            '(' if !in_quote => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth > 0 => {}
            '\\' if in_quote => {
                out.push(c);
                out.extend(chars.next());
            }
            '"' => {
                in_quote = !in_quote;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Splits on `sep` outside quoted strings.
fn split_unquoted(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut in_quote = false;
    let mut escaped = false;
    for c in s.chars() {
        if c == sep && !in_quote {
            parts.push(String::new());
            continue;
        }
        if in_quote && !escaped && c == '\\' {
            escaped = true;
        } else {
            if c == '"' && !escaped {
                in_quote = !in_quote;
            }
            escaped = false;
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// Whitespace-separated words, outside quoted strings. Whitespace around the `=` of
/// `key = value` and the `/` of `dkim / 1` is dropped (RFC 8601 allows CFWS there).
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_quote {
            cur.push(c);
            if c == '\\' {
                cur.extend(chars.get(i + 1));
                i += 1;
            } else if c == '"' {
                in_quote = false;
            }
        } else if c.is_whitespace() {
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let key_open =
                !cur.contains('=') && (cur.ends_with('/') || matches!(next, Some('=' | '/')));
            let value_open = cur.ends_with('=') && cur.find('=') == Some(cur.len() - 1);
            let joins = key_open || value_open;
            if !joins && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            if c == '"' {
                in_quote = true;
            }
            cur.push(c);
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// One `method=result [reason=...] [ptype.property=value ...]`; `None` for `none`, empty or
/// unreadable segments.
fn parse_resinfo(segment: &str) -> Option<MethodResult> {
    let mut words = words(segment).into_iter();
    let (method, result) = words.next()?.split_once('=').map(|(m, r)| {
        let method = m.split('/').next().unwrap_or(m).trim().to_ascii_lowercase();
        (method, unquote(r).to_ascii_lowercase())
    })?;
    let keyword = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !keyword(&method) || !keyword(&result) {
        return None;
    }
    let props = words
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            let k = k.to_ascii_lowercase();
            k.contains('.').then(|| (k, unquote(v)))
        })
        .collect();
    Some(MethodResult {
        method,
        result,
        props,
    })
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
