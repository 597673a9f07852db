//! Mail texts from Tera templates: `templates/<lang>/<name>.subject.tera` and
//! `<name>.txt.tera`, built into the binary and overridable from a directory.
//!
//! Plain-text templates are not HTML-escaped (tera only escapes `.html`/`.htm`/`.xml`), which
//! is what we want: a complainant's "<" must arrive as "<".

use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use tera::Tera;

use crate::config::Language;

// The built-in templates: every file under templates/<lang>/, embedded by build.rs.
include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// A rendered mail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, whitespace folded.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Renders the mail templates in the organisation's language.
#[derive(Debug, Clone)]
pub struct Renderer {
    tera: Tera,
    language: Language,
    timezone: TimeZone,
}

impl Renderer {
    /// Loads the built-in templates, then any `<lang>/*.tera` in `dir` over them.
    pub fn new(language: Language, timezone: TimeZone, dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut tera = Tera::default();
        tera.add_raw_templates(BUILT_IN.iter().copied())
            .context("Built-in templates do not parse")?;
        if let Some(dir) = dir {
            for lang in ["nl", "en"] {
                let Ok(entries) = std::fs::read_dir(dir.join(lang)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                        continue;
                    };
                    if file.ends_with(".tera") {
                        let text = std::fs::read_to_string(&path).with_context(|| {
                            format!("Failed to read template {}", path.display())
                        })?;
                        tera.add_raw_template(&format!("{lang}/{file}"), &text)
                            .with_context(|| {
                                format!("Template {} does not parse", path.display())
                            })?;
                    }
                }
            }
        }
        Ok(Self {
            tera,
            language,
            timezone,
        })
    }

    /// Renders mail `name` with `context`.
    pub fn render(&self, name: &str, context: &tera::Context) -> anyhow::Result<Rendered> {
        let lang = self.language.code();
        let subject = self
            .tera
            .render(&format!("{lang}/{name}.subject.tera"), context)
            .with_context(|| format!("Failed to render the subject of {name}"))?;
        let body = self
            .tera
            .render(&format!("{lang}/{name}.txt.tera"), context)
            .with_context(|| format!("Failed to render {name}"))?;
        Ok(Rendered {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            body: body.trim_end().to_string() + "\n",
        })
    }

    /// A date as people write it in the mail's language: "maandag 2 maart 2026".
    pub fn date(&self, t: Timestamp) -> String {
        format_date(t, &self.timezone, self.language)
    }
}

const NL_DAYS: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];
/// Dutch month names, lower case (also used by the report).
pub const NL_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// Formats a date in the organisation's time zone and language.
pub fn format_date(t: Timestamp, tz: &TimeZone, language: Language) -> String {
    let z = t.to_zoned(tz.clone());
    match language {
        Language::Nl => {
            let day = NL_DAYS[usize::from(z.weekday().to_monday_zero_offset().unsigned_abs())];
            let month = NL_MONTHS[usize::from(z.month().unsigned_abs()).saturating_sub(1) % 12];
            format!("{day} {} {month} {}", z.day(), z.year())
        }
        Language::En => z.strftime("%A %-d %B %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    #[test]
    fn dates_are_written_in_the_mail_language_and_local_time() {
        let t: Timestamp = "2026-03-01T23:30:00Z".parse().unwrap();
        assert_eq!(format_date(t, &tz(), Language::Nl), "maandag 2 maart 2026");
        assert_eq!(format_date(t, &tz(), Language::En), "Monday 2 March 2026");
    }

    #[test]
    fn the_acknowledgement_names_reference_dates_and_how_to_reply() {
        let r = Renderer::new(Language::Nl, tz(), None).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("reference", "KL-2026-0042");
        ctx.insert("subject", "Examen <kwijt>");
        ctx.insert("name", "Klaas");
        ctx.insert("received", "maandag 2 maart 2026");
        ctx.insert("explain_by", "maandag 16 maart 2026");
        ctx.insert("organisation", "Concreet");
        let m = r.render("acknowledgement", &ctx).unwrap();
        assert_eq!(
            m.subject,
            "[KL-2026-0042] Ontvangstbevestiging: Examen <kwijt>"
        );
        assert!(m.body.starts_with("Beste Klaas,"));
        assert!(m.body.contains("maandag 16 maart 2026"));
        assert!(m.body.contains("[KL-2026-0042]"));
        assert!(
            m.body.contains("Examen <kwijt>"),
            "plain text is not HTML-escaped"
        );
    }
}
