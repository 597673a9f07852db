//! The small closed vocabularies of a complaint (status, outcome, channel, ...), each with the
//! stable snake_case name used in the database, JSON and the command line.

use std::fmt;

/// An unknown name for one of the vocabularies below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct UnknownName {
    /// Which vocabulary, e.g. "status".
    pub kind: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

/// Declares a closed vocabulary: the enum, its stable names, `as_str`, `parse`, `ALL`,
/// `Display` and serde as a string. One macro so that the names cannot drift between the
/// database, JSON and the CLI.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name stored in the database and shown in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stable name (case-insensitive).
            pub fn parse(s: &str) -> Result<Self, UnknownName> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        kind: $kind,
                        value: s.to_string(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

// Shared with `kinds`, whose vocabularies are the register's own, not the complaint's.
pub(super) use vocabulary;

vocabulary! {
    /// Where a complaint is in the procedure.
    Status, "status" {
        /// Registered, no acknowledgement sent yet.
        New => "new",
        /// The complainant has been told the complaint was received (step 5).
        Acknowledged => "acknowledged",
        /// Assigned and being handled (steps 6 and 7).
        InProgress => "in_progress",
        /// A solution was proposed; waiting for the complainant's verdict (step 8).
        AwaitingVerdict => "awaiting_verdict",
        /// Done (step 9); see the outcome.
        Closed => "closed",
    }
}

impl Status {
    /// Whether the complaint still needs work.
    pub fn is_open(self) -> bool {
        self != Status::Closed
    }
}

vocabulary! {
    /// How a closed complaint ended.
    Outcome, "outcome" {
        /// The complainant accepted the solution.
        Accepted => "accepted",
        /// Solved by the staff member who took the call or letter (step 2).
        SolvedAtFirstContact => "solved_at_first_contact",
        /// On reflection not a complaint (a question, a misunderstanding).
        NotAComplaint => "not_a_complaint",
        /// The complainant withdrew it.
        Withdrawn => "withdrawn",
        /// Closed by the officer without a verdict from the complainant.
        ClosedWithoutVerdict => "closed_without_verdict",
    }
}

vocabulary! {
    /// How the complaint reached us.
    Channel, "channel" {
        /// By e-mail to the complaints mailbox.
        Email => "email",
        /// By telephone, reported by a staff member's phone note.
        Phone => "phone",
        /// By letter, scanned and sent in by a staff member.
        Letter => "letter",
        /// In person, reported by a staff member.
        InPerson => "in_person",
    }
}

vocabulary! {
    /// Who the complainant is, for the report.
    CustomerType, "customer type" {
        /// A private customer (particulier).
        Private => "private",
        /// An institution: a school, a training centre (instelling).
        Institution => "institution",
        /// A colleague (intern).
        Internal => "internal",
    }
}

vocabulary! {
    /// Whether the complaint came from outside or from a colleague.
    Origin, "origin" {
        /// From a customer or anyone outside the organisation.
        External => "external",
        /// From a colleague.
        Internal => "internal",
    }
}

vocabulary! {
    /// The classification every complaint gets (step 4).
    Classification, "classification" {
        /// Not classified yet.
        Unknown => "unknown",
        /// A one-off incident.
        Incident => "incident",
        /// A structural problem: management is told.
        Structural => "structural",
    }
}

vocabulary! {
    /// The complainant's verdict on a proposed solution.
    Verdict, "verdict" {
        /// Handled to satisfaction.
        Accepted => "accepted",
        /// A new proposal is needed.
        Rejected => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), *s);
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), *o);
        }
        assert_eq!(Channel::parse("IN_PERSON").unwrap(), Channel::InPerson);
    }

    #[test]
    fn unknown_names_list_the_expected_ones() {
        let err = Status::parse("open").unwrap_err();
        assert!(err.to_string().contains("new, acknowledged, in_progress"));
    }
}
