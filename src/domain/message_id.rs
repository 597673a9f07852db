//! `MessageId`: the RFC 5322 Message-ID that ties replies to complaints.

use std::fmt;

/// A Message-ID without its angle brackets (the form mail-parser returns), compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

/// Why a string is not a usable Message-ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a usable Message-ID")]
pub struct InvalidMessageId(pub String);

impl MessageId {
    /// Parses a Message-ID with or without angle brackets. Rejects empty ids and ids with
    /// whitespace or brackets inside, which would corrupt the headers we write with them.
    pub fn parse(s: &str) -> Result<Self, InvalidMessageId> {
        let bare = s
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        let bad = bare.is_empty()
            || bare.len() > 250
            || bare
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '<' | '>') || c.is_control());
        if bad {
            return Err(InvalidMessageId(s.to_string()));
        }
        Ok(Self(bare.to_string()))
    }

    /// The id between angle brackets, as written in `Message-ID`, `In-Reply-To` and
    /// `References` headers (mail-parser hands them out without).
    pub fn bracketed(&self) -> String {
        format!("<{}>", self.0)
    }
}

impl AsRef<str> for MessageId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for MessageId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_removed_and_added_back() {
        let id = MessageId::parse("<abc.123@concreet.nl>").unwrap();
        assert_eq!(id.as_ref(), "abc.123@concreet.nl");
        assert_eq!(id.bracketed(), "<abc.123@concreet.nl>");
    }

    #[test]
    fn ids_that_would_break_headers_are_rejected() {
        for bad in ["", "<>", "a b@c", "a<b@c", "x\r\ny"] {
            assert!(MessageId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
