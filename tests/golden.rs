//! Golden tests: real mail from `testdata/corpus/**.eml` through `intake::process`, each
//! compared with the interpretation written beside it in `<name>.expected.txt`:
//!
//! ```text
//! outcome: registered | follow-up | suppressed: <kind> | flagged: <reason prefix> | duplicate
//! description:
//! <the stripped description of the registered complaint, to the end of the file>
//! ```
//!
//! `KLACHTENBOT_BLESS=1 cargo test --test golden` rewrites the expectation files from what
//! the code does now (then review the diff: it is the interpretation people will get).
//! All fixtures go through one register in sorted path order, so a later fixture may be a
//! duplicate of an earlier one.

mod common;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use common::{TestBot, eml_files, sha256_hex};
use futures::FutureExt;
use klachtenbot::intake::{self, Outcome, Source};

/// Fewer fixtures than this means the folder went missing or was emptied by mistake.
const MIN_FIXTURES: usize = 80;

fn corpus_dir() -> PathBuf {
    common::crate_dir().join("testdata/corpus")
}

/// The shared, larger corpus of the project, when this machine has it.
const SHARED_CORPUS: &str = "/work/shared/corpus";

fn blessing() -> bool {
    std::env::var("KLACHTENBOT_BLESS").is_ok_and(|v| v == "1")
}

fn expectation_path(eml: &Path) -> PathBuf {
    let stem = eml
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("message");
    eml.with_file_name(format!("{stem}.expected.txt"))
}

/// What one fixture turned into.
struct Processed {
    path: PathBuf,
    raw: Vec<u8>,
    result: Result<Outcome, String>,
    /// The description of the complaint it registered.
    description: Option<String>,
    /// Acknowledgements queued while processing it.
    new_acknowledgements: usize,
}

impl Processed {
    fn name(&self) -> String {
        let shown = self.path.strip_prefix(corpus_dir()).unwrap_or(&self.path);
        shown.display().to_string()
    }
}

/// Runs every file through one fresh register, in order; a panic or error is recorded
/// against its file instead of stopping the run.
async fn process_all(t: &TestBot, files: &[PathBuf]) -> Vec<Processed> {
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let raw = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let acks_before = t.acknowledgements().await.len();
        let source = Source::File(path.display().to_string());
        let call = AssertUnwindSafe(intake::process(&t.bot, &raw, &source))
            .catch_unwind()
            .await;
        let result = match call {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(format!("error: {e}")),
            Err(panic) => Err(format!("PANIC: {}", panic_text(&panic))),
        };
        let description = match &result {
            Ok(Outcome::Registered(r)) => Some(t.complaint(*r).await.complaint.description),
            _ => None,
        };
        let new_acknowledgements = t.acknowledgements().await.len() - acks_before;
        out.push(Processed {
            path: path.clone(),
            raw,
            result,
            description,
            new_acknowledgements,
        });
    }
    out
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// The `outcome:` line of an expectation for an outcome.
fn outcome_line(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Registered(_) => "registered".into(),
        Outcome::FollowUp(_) => "follow-up".into(),
        Outcome::Suppressed { reason, .. } => format!("suppressed: {reason}"),
        Outcome::Flagged { reason, .. } => {
            // Keep the stable start of the reason, not the addresses and sizes after it.
            let cut = reason.find([':', '(']).unwrap_or(reason.len());
            format!("flagged: {}", reason[..cut].trim_end())
        }
        Outcome::Duplicate => "duplicate".into(),
        Outcome::Commanded { applied, .. } => {
            format!("command {}", if *applied { "applied" } else { "refused" })
        }
    }
}

/// An expectation file.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    outcome: String,
    description: Option<String>,
}

impl Expected {
    fn parse(text: &str) -> Result<Expected, String> {
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let outcome = first
            .strip_prefix("outcome:")
            .ok_or_else(|| format!("the first line must be `outcome: ...`, not {first:?}"))?
            .trim()
            .to_string();
        let description = match rest.split_once('\n') {
            Some((line, text)) if line.trim_end() == "description:" => {
                Some(text.strip_suffix('\n').unwrap_or(text).to_string())
            }
            None if rest.trim_end() == "description:" => Some(String::new()),
            _ if rest.trim().is_empty() => None,
            _ => {
                return Err(format!(
                    "after the outcome only `description:` may follow, not {rest:?}"
                ));
            }
        };
        Ok(Expected {
            outcome,
            description,
        })
    }

    fn of(p: &Processed) -> Expected {
        let outcome = match &p.result {
            Ok(o) => outcome_line(o),
            Err(e) => e.clone(),
        };
        Expected {
            outcome,
            description: p.description.clone(),
        }
    }

    fn render(&self) -> String {
        let mut s = format!("outcome: {}\n", self.outcome);
        if let Some(d) = &self.description {
            s.push_str("description:\n");
            s.push_str(d);
            s.push('\n');
        }
        s
    }

    /// Differences between this expectation and what happened, as lines for the report.
    fn differences(&self, actual: &Expected) -> Vec<String> {
        let mut diffs = Vec::new();
        let outcome_ok = match self.outcome.strip_prefix("flagged:") {
            Some(prefix) => actual
                .outcome
                .strip_prefix("flagged:")
                .is_some_and(|r| r.trim().starts_with(prefix.trim())),
            None => self.outcome == actual.outcome,
        };
        if !outcome_ok {
            diffs.push(format!(
                "  outcome: expected `{}`, got `{}`",
                self.outcome, actual.outcome
            ));
        }
        if outcome_ok && self.description != actual.description {
            diffs.push(format!(
                "  description:\n    expected: {:?}\n    actual:   {:?}",
                self.description.as_deref().unwrap_or("(none)"),
                actual.description.as_deref().unwrap_or("(none)"),
            ));
        }
        diffs
    }
}

#[test]
fn the_corpus_holds_at_least_80_messages_and_each_has_an_expectation_file() {
    let files = eml_files(&corpus_dir());
    assert!(
        files.len() >= MIN_FIXTURES,
        "only {} .eml fixtures under {} (at least {MIN_FIXTURES} expected): is the folder missing?",
        files.len(),
        corpus_dir().display()
    );
    if blessing() {
        return;
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !expectation_path(f).is_file())
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "fixtures without .expected.txt (run with KLACHTENBOT_BLESS=1):\n{}",
        missing.join("\n")
    );
}

#[tokio::test]
async fn every_corpus_message_is_interpreted_as_its_expectation_file_says() {
    let files = eml_files(&corpus_dir());
    assert!(
        files.len() >= MIN_FIXTURES,
        "only {} fixtures found",
        files.len()
    );
    let t = TestBot::sqlite("").await;
    let processed = process_all(&t, &files).await;
    let mut failures = Vec::new();
    for p in &processed {
        let actual = Expected::of(p);
        let path = expectation_path(&p.path);
        if blessing() && p.result.is_ok() {
            std::fs::write(&path, actual.render())
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            continue;
        }
        if let Err(e) = &p.result {
            failures.push(format!("{}:\n  {e}", p.name()));
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| Expected::parse(&text));
        match expected {
            Ok(expected) => {
                let diffs = expected.differences(&actual);
                if !diffs.is_empty() {
                    failures.push(format!("{}:\n{}", p.name(), diffs.join("\n")));
                }
            }
            Err(e) => failures.push(format!("{}:\n  {e}", p.name())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures are not interpreted as expected (KLACHTENBOT_BLESS=1 rewrites the \
         expectations; review the diff):\n\n{}",
        failures.len(),
        processed.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn only_registered_corpus_messages_get_an_acknowledgement() {
    let t = TestBot::sqlite("").await;
    let processed = process_all(&t, &eml_files(&corpus_dir())).await;
    let wrong = acknowledgement_problems(&processed);
    assert!(
        wrong.is_empty(),
        "acknowledgements where none belong:\n{}",
        wrong.join("\n")
    );
}

/// Files that queued an acknowledgement without registering a complaint, or more than one.
fn acknowledgement_problems(processed: &[Processed]) -> Vec<String> {
    processed
        .iter()
        .filter(|p| {
            let registered = matches!(p.result, Ok(Outcome::Registered(_)));
            p.new_acknowledgements > usize::from(registered)
        })
        .map(|p| {
            format!(
                "{}: {} acknowledgement(s) after {:?}",
                p.name(),
                p.new_acknowledgements,
                p.result
            )
        })
        .collect()
}

#[tokio::test]
async fn every_corpus_message_is_stored_or_is_a_duplicate_of_a_stored_earlier_one() {
    let files = eml_files(&corpus_dir());
    assert!(
        files.len() >= MIN_FIXTURES,
        "only {} fixtures found",
        files.len()
    );
    let t = TestBot::sqlite("").await;
    let processed = process_all(&t, &files).await;
    let problems = storage_problems(&t, &processed).await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn every_message_of_the_shared_corpus_is_stored_without_a_panic_or_a_wrong_acknowledgement() {
    let files = eml_files(Path::new(SHARED_CORPUS));
    if files.is_empty() {
        return; // Not on this machine: nothing to check.
    }
    let t = TestBot::sqlite("").await;
    let processed = process_all(&t, &files).await;
    let mut problems = storage_problems(&t, &processed).await;
    problems.extend(acknowledgement_problems(&processed));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks that each processed file succeeded and is in the `messages` table, processed, with
/// its exact bytes; or, for a duplicate, that an earlier file with the same Message-ID is.
async fn storage_problems(t: &TestBot, processed: &[Processed]) -> Vec<String> {
    let rows = t.messages().await;
    let mut problems = Vec::new();
    let mut stored_ids: Vec<String> = Vec::new();
    let mut stored = 0;
    for p in processed {
        let parsed_id = intake::parse::parse(&p.raw)
            .and_then(|m| m.message_id)
            .map(|id| id.to_string());
        match &p.result {
            Err(e) => problems.push(format!("{}: {e}", p.name())),
            Ok(Outcome::Duplicate) => match &parsed_id {
                Some(id) if stored_ids.contains(id) && rows.iter().any(|r| r.message_id.as_deref() == Some(id)) => {}
                _ => problems.push(format!(
                    "{}: called a duplicate, but no earlier fixture with Message-ID {parsed_id:?} is stored",
                    p.name()
                )),
            },
            Ok(outcome) => {
                let sha = sha256_hex(&p.raw);
                match rows.iter().find(|r| r.sha256 == sha) {
                    None => problems.push(format!("{}: {outcome}, but no messages row has its bytes", p.name())),
                    Some(row) if row.raw != p.raw => problems.push(format!("{}: stored bytes differ", p.name())),
                    Some(row) if row.processed_at.is_none() || row.kind == "pending" || row.outcome.is_none() => {
                        problems.push(format!("{}: stored but not marked processed: {row:?}", p.name()))
                    }
                    Some(_) => {
                        stored += 1;
                        stored_ids.extend(parsed_id);
                    }
                }
            }
        }
    }
    if problems.is_empty() && rows.len() != stored {
        problems.push(format!(
            "{} messages rows for {stored} stored (non-duplicate) files",
            rows.len()
        ));
    }
    problems
}
