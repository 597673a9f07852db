//! What became of a message: the value every handler returns and the one log line per
//! message. Apart from `process` so the handlers need not import the door (no cycle).

use std::fmt;

use crate::domain::Reference;

/// What became of a message; its `Display` is the one log line per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new complaint was registered.
    Registered(Reference),
    /// Added to an existing complaint.
    FollowUp(Reference),
    /// Stored without an answer (automated mail, loop, rate limit), with the reason.
    Suppressed {
        /// Why.
        reason: String,
        /// The complaint it was attached to, if any.
        reference: Option<Reference>,
    },
    /// Seen before; nothing changed.
    Duplicate,
    /// A command mail: applied, or refused with the reasons (the sender got an answer).
    Commanded {
        /// The complaint concerned, if any.
        reference: Option<Reference>,
        /// Whether the commands were applied.
        applied: bool,
        /// What happened, in short.
        summary: String,
    },
    /// Stored and flagged for the officer, with the reason.
    Flagged {
        /// Why.
        reason: String,
        /// The complaint concerned, if any.
        reference: Option<Reference>,
    },
}

impl Outcome {
    /// The complaint concerned, if any.
    pub fn reference(&self) -> Option<Reference> {
        match self {
            Outcome::Registered(r) | Outcome::FollowUp(r) => Some(*r),
            Outcome::Suppressed { reference, .. }
            | Outcome::Flagged { reference, .. }
            | Outcome::Commanded { reference, .. } => *reference,
            Outcome::Duplicate => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |r: &Option<Reference>| r.map(|r| format!(" ({r})")).unwrap_or_default();
        match self {
            Outcome::Registered(r) => write!(f, "registered {r}"),
            Outcome::FollowUp(r) => write!(f, "follow-up {r}"),
            Outcome::Suppressed { reason, reference } => {
                write!(f, "suppressed: {reason}{}", on(reference))
            }
            Outcome::Duplicate => f.write_str("duplicate"),
            Outcome::Commanded {
                reference,
                applied,
                summary,
            } => {
                let verb = if *applied {
                    "command applied"
                } else {
                    "command refused"
                };
                write!(f, "{verb}{}: {summary}", on(reference))
            }
            Outcome::Flagged { reason, reference } => {
                write!(f, "flagged: {reason}{}", on(reference))
            }
        }
    }
}
