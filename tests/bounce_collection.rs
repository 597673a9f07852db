//! Public bounce collections (`testdata/bounces/`, see its MANIFEST.tsv) through the
//! classifier: every mail in them was written by a machine, so none may be taken for a
//! person (which would answer a machine or register a bounce as a complaint).
//!
//! `cargo test --test bounce_collection -- --nocapture` prints the figures.

mod common;

use common::{crate_dir, eml_files};
use klachtenbot::intake::classify::{Automated, automated};
use klachtenbot::intake::parse::parse;

/// Fewer files than this means the folder went missing.
const MIN_FILES: usize = 150;

/// Files of the collections that are not machine mail, with why (checked by hand).
const NOT_MACHINE: &[(&str, &str)] = &[(
    "flufl_bounce/groupwise_03.eml",
    "a person's reply (flufl.bounce keeps it as a non-bounce)",
)];

#[test]
fn no_mail_of_the_public_bounce_collections_is_taken_for_a_person() {
    let root = crate_dir().join("testdata/bounces");
    let files = eml_files(&root);
    assert!(files.len() >= MIN_FILES, "only {} files", files.len());
    let (mut bounces, mut other_machine, mut wrong) = (0, 0, Vec::new());
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let raw = std::fs::read(path).unwrap();
        let mail = parse(&raw);
        let verdict = mail.as_ref().and_then(automated);
        let expected_person = NOT_MACHINE.iter().any(|(n, _)| *n == name);
        // The collection's own non-bounces (auto-replies, list notices) must not be taken
        // for bounces; whether they are people is not claimed.
        let non_bounce = name.contains("non_bounces");
        match verdict {
            Some(Automated::Bounce) if non_bounce => wrong.push(name.clone()),
            Some(Automated::Bounce) => bounces += 1,
            Some(_) => other_machine += 1,
            None if expected_person || non_bounce => {}
            None => {
                let from = mail
                    .as_ref()
                    .map(|m| format!("{:?} {:?}", m.from, m.subject));
                println!("WRONG {name}: {from:?}");
                wrong.push(name.clone());
            }
        }
        println!(
            "{name}\t{}",
            verdict.map_or("person".to_string(), |v| v.to_string())
        );
    }
    let right = files.len() - wrong.len();
    println!(
        "bounce collections: {} files, {right} judged right ({bounces} bounce, {other_machine} other machine mail, the rest the collections' non-bounces or people)",
        files.len()
    );
    assert!(wrong.is_empty(), "taken for a person: {wrong:#?}");
}
