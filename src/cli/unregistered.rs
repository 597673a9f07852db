//! `klachtenbot list --unregistered [--since 7d] [--json]`: the mail that did not become a
//! complaint, so the officer can check the bot's judgement (and register a misjudged mail by
//! forwarding it to the bot).

use jiff::SignedDuration;

use super::exit;
use crate::app::Bot;
use crate::store::unregistered;

/// How far back `--since` looks when not given.
pub const DEFAULT_SINCE: &str = "7d";

/// Parses `12h`, `7d`, `2w` into a duration.
pub fn parse_since(s: &str) -> Result<SignedDuration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 12h, 7d or 2w"))?;
    let hours = match unit.trim() {
        "h" => n,
        "d" | "" => n * 24,
        "w" => n * 24 * 7,
        _ => return Err(format!("'{s}' is not a duration like 12h, 7d or 2w")),
    };
    Ok(SignedDuration::from_hours(hours))
}

/// Prints the mail of the last `since` that was not registered.
pub async fn list(bot: &Bot, since: &str, json: bool) -> anyhow::Result<u8> {
    let span = match parse_since(since) {
        Ok(span) => span,
        Err(e) => {
            eprintln!("{e}");
            return Ok(exit::DATAERR);
        }
    };
    let now = bot.clock.now();
    let from = now.checked_sub(span).unwrap_or(jiff::Timestamp::MIN);
    let mut conn = bot.store.pool().acquire().await?;
    let rows = unregistered::since(&mut conn, from, now).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        println!("no unregistered mail since {since} ago");
    }
    let tz = bot.settings.organisation.timezone.clone();
    for r in rows {
        println!(
            "{}  message {:<6} {:<30} {}  [{}]",
            r.received_at
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M"),
            r.id,
            r.from_address.as_deref().unwrap_or("-"),
            r.subject.as_deref().unwrap_or("(geen onderwerp)"),
            r.reason
        );
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_hours_days_and_weeks() {
        assert_eq!(parse_since("12h"), Ok(SignedDuration::from_hours(12)));
        assert_eq!(parse_since("7d"), Ok(SignedDuration::from_hours(168)));
        assert_eq!(parse_since("2w"), Ok(SignedDuration::from_hours(336)));
        assert!(parse_since("soon").is_err());
        assert!(parse_since("3y").is_err());
    }
}
