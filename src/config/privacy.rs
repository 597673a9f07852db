//! `[privacy]`: the retention term.

use super::check::Check;
use super::raw::RawPrivacy;
use crate::privacy::{PrivacySettings, Term};

pub(super) fn privacy(p: RawPrivacy, check: &mut Check) -> PrivacySettings {
    let anonymise_after = p
        .anonymise_after
        .and_then(|t| check.or("privacy.anonymise_after", Term::parse(&t).map(Some), None));
    PrivacySettings { anonymise_after }
}
