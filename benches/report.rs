//! The annual report on a large register. Prints its figures.
//!
//! `cargo bench --bench report`. `KB_BENCH_COMPLAINTS=100000` sets the size of the reported
//! year; a tenth as many complaints in the year before give the comparison something to
//! compare with. `KB_BENCH_OUT=/tmp/folder` keeps the HTML and the CSV there.
//!
//! A register is generated into a temporary SQLite file (bulk inserts through the store, in
//! transactions of 10,000), with a seeded mix of channels, categories, departments,
//! classifications, outcomes, milestones, root causes (spelled in several ways) and a few
//! recommendations and measures. Then the report of the year is built as
//! `klachtenbot report --year` builds it, and each step is timed: reading the register,
//! computing the figures, writing the HTML (with its SVG charts), the CSV and the Markdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use klachtenbot::app::Bot;
use klachtenbot::clock::ManualClock;
use klachtenbot::config::Settings;
use klachtenbot::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Deadlines, EmailAddress, Origin,
    Outcome, Reference, Status,
};
use klachtenbot::report::figures::Scope;
use klachtenbot::report::{self, Options, Period};
use klachtenbot::store::complaints;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const YEAR: i16 = 2026;
const BATCH: usize = 10_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` also runs bench binaries; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("report benchmark: run with `cargo bench --bench report`");
        return Ok(());
    }
    let n: usize = std::env::var("KB_BENCH_COMPLAINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let toml = format!(
        "[organisation]\nname = \"Concreet Onderwijsproducten\"\nmail_domain = \"concreet.test\"\n\
         timezone = \"Europe/Amsterdam\"\nlanguage = \"nl\"\n[database]\nurl = \"sqlite://{}\"\n",
        dir.path().join("bench.db").display()
    );
    let settings = Settings::from_toml(&toml, dir.path()).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let as_of: Timestamp = "2027-01-15T09:00:00Z".parse()?;
    let bot = Bot::open_with_clock(settings, Arc::new(ManualClock::new(as_of))).await?;

    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(2026);
    generate(&bot, &mut rng, YEAR - 1, n / 10).await?;
    generate(&bot, &mut rng, YEAR, n).await?;
    extras(&bot).await?;
    println!(
        "register: {} complaints in {YEAR} and {} in {} generated in {}",
        n,
        n / 10,
        YEAR - 1,
        secs(started.elapsed())
    );

    let period = Period::year(YEAR, bot.settings.organisation.timezone.clone())?;
    for round in 1..=2 {
        println!("round {round}:");
        timed_steps(&bot, &period).await?;
    }
    // The whole of it, as `klachtenbot report` and `#rapport` run it; the best of three,
    // since other processes on a small machine add noise.
    let mut times = Vec::new();
    let mut built = None;
    for _ in 0..3 {
        let t = Instant::now();
        built = Some(report::build(&bot, period.clone(), false).await?);
        times.push(t.elapsed());
    }
    let built = built.context("built three times")?;
    let best = times.iter().min().copied().unwrap_or_default();
    println!(
        "report::build (read + figures + HTML + CSV + Markdown): best {} of {}; HTML {} KiB, CSV {} KiB, {} complaints",
        secs(best),
        times
            .iter()
            .map(|t| secs(*t))
            .collect::<Vec<_>>()
            .join(", "),
        built.html.len() / 1024,
        built.csv.len() / 1024,
        built.figures.total
    );
    println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
    // To look at the result: KB_BENCH_OUT=/tmp/folder keeps report.html and report.csv.
    if let Ok(out) = std::env::var("KB_BENCH_OUT") {
        let out = std::path::Path::new(&out);
        std::fs::write(out.join("report.html"), &built.html)?;
        std::fs::write(out.join("report.csv"), &built.csv)?;
    }
    Ok(())
}

/// Each step of `report::build`, timed on its own.
async fn timed_steps(bot: &Bot, period: &Period) -> anyhow::Result<()> {
    let t = Instant::now();
    let register = report::load::register(&bot.store, period, false).await?;
    let read = t.elapsed();
    let scope = Scope {
        period,
        calendar: &bot.calendar,
        as_of: bot.clock.now(),
    };
    let options = Options::from_settings(&bot.settings, false);
    let t = Instant::now();
    let analysed = report::figures::analyse(&register.complaints, &scope);
    let facts = t.elapsed();
    let t = Instant::now();
    let figures = report::figures::summarise(
        &analysed,
        &register.recommendations,
        &register.measures,
        Some(&register.previous),
        &scope,
    );
    let summary = t.elapsed();
    let t = Instant::now();
    let html = report::html::render(&figures, &options)?;
    let html_time = t.elapsed();
    let t = Instant::now();
    let csv = report::csv::write(&analysed, &scope, &options)?;
    let csv_time = t.elapsed();
    let t = Instant::now();
    let md = report::md::render(&figures, &options);
    let md_time = t.elapsed();
    println!(
        "  read register {} ({} + {} previous)  facts {}  figures {}  HTML {} ({} KiB)  CSV {} ({} KiB, {} rows)  Markdown {} ({} KiB)",
        secs(read),
        register.complaints.len(),
        register.previous.len(),
        secs(facts),
        secs(summary),
        secs(html_time),
        html.len() / 1024,
        secs(csv_time),
        csv.len() / 1024,
        figures.total,
        secs(md_time),
        md.len() / 1024,
    );
    println!(
        "  figures + HTML + CSV (from records in memory): {}",
        secs(facts + summary + html_time + csv_time)
    );
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

const CATEGORIES: [&str; 12] = [
    "Levering",
    "Factuur",
    "Examen",
    "Lesmateriaal",
    "Licentie",
    "Website",
    "Klantenservice",
    "Retour",
    "Cijferregistratie",
    "Toetsplatform",
    "Bestelling",
    "Privacy",
];
const DEPARTMENTS: [&str; 6] = [
    "Logistiek",
    "Financiën",
    "Examenbureau",
    "Uitgeverij",
    "ICT",
    "Klantenservice",
];
const CAUSES: [&str; 10] = [
    "Voorraad niet bijgewerkt",
    "Adres verkeerd overgenomen",
    "Factuur dubbel verstuurd",
    "Licentie niet geactiveerd",
    "Inlogprobleem toetsplatform",
    "Verkeerde editie geleverd",
    "Vervoerder te laat",
    "Terugbelverzoek niet opgevolgd",
    "Prijs op website onjuist",
    "Cijfers te laat verwerkt",
];

/// `count` complaints received in `year`, inserted in transactions of [`BATCH`].
async fn generate(bot: &Bot, rng: &mut StdRng, year: i16, count: usize) -> anyhow::Result<()> {
    let tz = bot.settings.organisation.timezone.clone();
    let start = jiff::civil::date(year, 1, 1)
        .to_zoned(tz.clone())?
        .timestamp();
    let end = jiff::civil::date(year + 1, 1, 1).to_zoned(tz)?.timestamp();
    let span = end.as_second() - start.as_second();
    let mut received: Vec<i64> = (0..count)
        .map(|_| start.as_second() + rng.random_range(0..span))
        .collect();
    received.sort_unstable();
    let as_of = bot.clock.now();
    for (chunk_no, chunk) in received.chunks(BATCH).enumerate() {
        let mut tx = bot.store.begin().await?;
        for (i, secs) in chunk.iter().enumerate() {
            let number = u32::try_from(chunk_no * BATCH + i + 1)?;
            let c = complaint(rng, year, number, Timestamp::from_second(*secs)?, as_of);
            complaints::insert(&mut tx, &c, as_of).await?;
        }
        tx.commit().await.context("commit")?;
    }
    Ok(())
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn complaint(
    rng: &mut StdRng,
    year: i16,
    number: u32,
    received: Timestamp,
    as_of: Timestamp,
) -> Complaint {
    let hours = |h: i64| SignedDuration::from_hours(h);
    let within = |rng: &mut StdRng, lo: i64, hi: i64| received + hours(rng.random_range(lo..hi));
    let channel = *pick(
        rng,
        &[
            Channel::Email,
            Channel::Email,
            Channel::Email,
            Channel::Phone,
            Channel::Letter,
            Channel::InPerson,
        ],
    );
    let internal = rng.random_bool(0.08);
    let cause = rng.random_bool(0.6).then(|| {
        let c = *pick(rng, &CAUSES);
        match rng.random_range(0..3) {
            0 => c.to_lowercase(),
            1 => format!("{c}."),
            _ => c.to_string(),
        }
    });
    let acknowledged = within(rng, 0, 2);
    let explained = rng.random_bool(0.9).then(|| within(rng, 24, 24 * 20));
    let solved = explained
        .filter(|_| rng.random_bool(0.85))
        .map(|e| e + hours(rng.random_range(24..24 * 40)));
    let closed = solved
        .filter(|s| rng.random_bool(0.9) && *s < as_of)
        .map(|s| s + hours(rng.random_range(1..24 * 10)));
    let outcome = closed.map(|_| {
        *pick(
            rng,
            &[
                Outcome::Accepted,
                Outcome::Accepted,
                Outcome::Accepted,
                Outcome::SolvedAtFirstContact,
                Outcome::NotAComplaint,
                Outcome::Withdrawn,
                Outcome::ClosedWithoutVerdict,
            ],
        )
    });
    let status = match (closed, solved, explained) {
        (Some(_), _, _) => Status::Closed,
        (None, Some(_), _) => Status::AwaitingVerdict,
        (None, None, Some(_)) => Status::InProgress,
        _ => Status::Acknowledged,
    };
    Complaint {
        reference: Reference::new(year, number).expect("generated reference is valid"),
        received_at: received,
        channel,
        origin: if internal {
            Origin::Internal
        } else {
            Origin::External
        },
        customer_type: Some(if internal {
            CustomerType::Internal
        } else {
            *pick(rng, &[CustomerType::Private, CustomerType::Institution])
        }),
        complainant: Complainant {
            name: Some(format!("Klant {number}")),
            email: EmailAddress::parse(&format!("klant{number}@example.nl")).ok(),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: format!("Klacht over {}", pick(rng, &CATEGORIES).to_lowercase()),
        description: "Het pakket is niet aangekomen en niemand belt terug.".into(),
        category: rng
            .random_bool(0.95)
            .then(|| pick(rng, &CATEGORIES).to_string()),
        department: rng
            .random_bool(0.9)
            .then(|| pick(rng, &DEPARTMENTS).to_string()),
        assignee: None,
        concerned: None,
        classification: *pick(
            rng,
            &[
                Classification::Incident,
                Classification::Incident,
                Classification::Incident,
                Classification::Incident,
                Classification::Unknown,
                Classification::Structural,
            ],
        ),
        root_cause: cause,
        advice: None,
        solution: solved.map(|_| "Nieuw exemplaar verstuurd.".into()),
        verdict: None,
        status,
        outcome,
        deadlines: Deadlines {
            acknowledge_by: received + hours(24 * 7),
            explain_by: received + hours(24 * 14),
            solve_by: received + hours(24 * 42),
            acknowledged_at: Some(acknowledged),
            explained_at: explained,
            solved_at: solved,
        },
        closed_at: closed,
        rejections: u32::from(rng.random_bool(0.1)),
        reopenings: u32::from(rng.random_bool(0.02)),
    }
}

/// A few recommendations and measures in the reported year.
async fn extras(bot: &Bot) -> anyhow::Result<()> {
    let mut tx = bot.store.begin().await?;
    let at: Timestamp = "2026-06-15T10:00:00Z".parse()?;
    for (i, text) in CAUSES.iter().enumerate().take(5) {
        sqlx::query(
            "INSERT INTO recommendations (complaint_id, text, made_by, made_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::try_from(i * 97 + 1)?)
        .bind(format!("Voorkom: {text}"))
        .bind("functionaris@concreet.test")
        .bind(at.as_second())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO measures (complaint_id, text, status, decided_by, decided_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i64::try_from(i * 97 + 1)?)
        .bind(format!("Maatregel tegen: {text}"))
        .bind(if i % 2 == 0 { "decided" } else { "done" })
        .bind("directie@concreet.test")
        .bind(at.as_second())
        .bind(at.as_second())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
