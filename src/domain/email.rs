//! `EmailAddress`: an address that has been checked once, at the edge.

use std::fmt;
use std::str::FromStr;

/// A syntactically valid e-mail address (checked by lettre's RFC 5321 parser), stored in
/// lower case.
///
/// Lower-casing the local part is not strictly RFC-correct, but every mailbox our
/// complainants use treats it case-insensitively, and comparing "Jan@X.nl" with "jan@x.nl"
/// as different people would split one complainant's mail over two complaints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid e-mail address")]
pub struct InvalidEmailAddress(pub String);

impl EmailAddress {
    /// Parses an address, accepting surrounding whitespace, angle brackets and a `mailto:`
    /// prefix, which is how addresses arrive from headers and from people.
    pub fn parse(s: &str) -> Result<Self, InvalidEmailAddress> {
        let trimmed = s.trim();
        let bare = trimmed
            .strip_prefix("mailto:")
            .unwrap_or(trimmed)
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        let lowered = bare.to_lowercase();
        lowered
            .parse::<lettre::Address>()
            .map_err(|_| InvalidEmailAddress(s.to_string()))?;
        Ok(Self(lowered))
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EmailAddress {
    type Err = InvalidEmailAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn is_lower_cased_and_unwrapped() {
        let a = EmailAddress::parse(" <Jan.Jansen@Concreet.NL> ").unwrap();
        assert_eq!(a.as_ref(), "jan.jansen@concreet.nl");
        assert_eq!(a.domain(), "concreet.nl");
        assert_eq!(a.local_part(), "jan.jansen");
        assert_eq!(
            EmailAddress::parse("mailto:a@b.nl").unwrap().as_ref(),
            "a@b.nl"
        );
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in ["", "jan", "@x.nl", "jan@", "jan jansen@x.nl", "a@b@c"] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,60}") {
            let _ = EmailAddress::parse(&s);
        }

        #[test]
        fn valid_addresses_round_trip(local in "[a-z0-9._%+-]{1,20}", domain in "[a-z0-9]{1,10}\\.[a-z]{2,4}") {
            prop_assume!(!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."));
            let s = format!("{local}@{domain}");
            let a = EmailAddress::parse(&s).unwrap();
            prop_assert_eq!(a.as_ref(), s.as_str());
        }
    }
}
