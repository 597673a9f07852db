//! The kinds the register writes beside what it stores: what a received message was
//! ([`MessageKind`], `messages.kind`), what happened on a complaint's timeline
//! ([`EventKind`], `complaint_events.kind`), why the officer must look ([`FlagKind`],
//! `flags.reason`), and what made a mail machine-written ([`Automated`]). One enum each, so
//! the writer and every reader (digest, `list`, `show`, privacy) spell a kind the same way.

use std::fmt;

use super::enums::{UnknownName, vocabulary};

vocabulary! {
    /// Why a mail counts as machine-written.
    Automated, "automated kind" {
        /// A delivery status notification (bounce).
        Bounce => "bounce",
        /// A delivery report that is not a failure (delayed, delivered, relayed).
        DeliveryNotice => "delivery_notice",
        /// A read receipt or other disposition notification.
        ReadReceipt => "read_receipt",
        /// An out-of-office or other automatic reply.
        AutoReply => "auto_reply",
        /// Other machine-generated mail (RFC 3834 `auto-generated`, notifications, reports).
        Generated => "auto_generated",
        /// Mail distributed by a mailing list.
        MailingList => "mailing_list",
        /// Bulk mail (newsletters, `Precedence: bulk`).
        Bulk => "bulk",
    }
}

vocabulary! {
    /// What a received message turned out to be (`messages.kind`).
    MessageKind, "message kind" {
        /// No mail could be read from the bytes.
        Unreadable => "unreadable",
        /// Larger than the configured limit; stored unread.
        TooLarge => "too_large",
        /// Processing failed; flagged with the error.
        Error => "error",
        /// From our own address.
        Loop => "loop",
        /// A bounce.
        AutomatedBounce => "automated:bounce",
        /// A delivery report that is no failure.
        AutomatedDeliveryNotice => "automated:delivery_notice",
        /// A read receipt.
        AutomatedReadReceipt => "automated:read_receipt",
        /// An automatic reply.
        AutomatedAutoReply => "automated:auto_reply",
        /// Other machine-written mail.
        AutomatedGenerated => "automated:auto_generated",
        /// Mailing-list mail.
        AutomatedMailingList => "automated:mailing_list",
        /// Bulk mail.
        AutomatedBulk => "automated:bulk",
        /// No usable From address.
        NoSender => "no_sender",
        /// Registered as a new complaint.
        NewComplaint => "new_complaint",
        /// Added to its complaint.
        FollowUp => "follow_up",
        /// About a complaint its sender is no party to; not added.
        UnverifiedFollowUp => "unverified_follow_up",
        /// Commands, applied.
        Command => "command",
        /// Commands, refused (or not executed for want of proof of the sender).
        CommandRefused => "command_refused",
        /// A staff member's phone note; registered a complaint.
        PhoneNote => "phone_note",
        /// A staff member's scanned letter; registered a complaint.
        LetterNote => "letter_note",
        /// Another channel's note (in person); registered a complaint.
        InPersonNote => "in_person_note",
        /// A customer mail forwarded by staff; registered a complaint.
        Forward => "forward",
    }
}

impl MessageKind {
    /// The kind of a machine-written mail.
    pub fn automated(kind: Automated) -> MessageKind {
        match kind {
            Automated::Bounce => MessageKind::AutomatedBounce,
            Automated::DeliveryNotice => MessageKind::AutomatedDeliveryNotice,
            Automated::ReadReceipt => MessageKind::AutomatedReadReceipt,
            Automated::AutoReply => MessageKind::AutomatedAutoReply,
            Automated::Generated => MessageKind::AutomatedGenerated,
            Automated::MailingList => MessageKind::AutomatedMailingList,
            Automated::Bulk => MessageKind::AutomatedBulk,
        }
    }

    /// The kind of a staff member's note of a complaint received on `channel`.
    pub fn note(channel: super::Channel) -> MessageKind {
        match channel {
            super::Channel::Phone => MessageKind::PhoneNote,
            super::Channel::Letter => MessageKind::LetterNote,
            super::Channel::InPerson => MessageKind::InPersonNote,
            // A note is never an e-mail; should one be, it is still the staff member's note.
            super::Channel::Email => MessageKind::PhoneNote,
        }
    }

    /// Whether a message of this kind registered a complaint or added to one (or was a
    /// staff command that was carried out); every other kind is "not registered" for the
    /// officer's digest and `list --unregistered`.
    pub fn registered(self) -> bool {
        matches!(
            self,
            MessageKind::NewComplaint
                | MessageKind::FollowUp
                | MessageKind::Command
                | MessageKind::Forward
                | MessageKind::PhoneNote
                | MessageKind::LetterNote
                | MessageKind::InPersonNote
        )
    }
}

vocabulary! {
    /// What happened on a complaint's timeline (`complaint_events.kind`).
    EventKind, "event kind" {
        /// The complaint was registered.
        Registered => "registered",
        /// A mail about it came in (also an automated one, not answered).
        MailIn => "mail_in",
        /// A mail about it came in from someone who is no party to it; not added.
        MailInUnverified => "mail_in_unverified",
        /// A mail about it went out.
        MailOut => "mail_out",
        /// A command was applied.
        Command => "command",
        /// Commands were not executed (no proof of the sender).
        CommandRefused => "command_refused",
        /// A remark of the bot (a mail nobody could be sent).
        Note => "note",
        /// An automatic reply was held back (per-sender limit).
        Suppressed => "suppressed",
        /// Personal data was anonymised after the retention period.
        Anonymised => "anonymised",
        /// The complainant's data was erased on request; the complaint withdrawn.
        Withdrawn => "withdrawn",
    }
}

vocabulary! {
    /// Why the officer must look at something (`flags.reason`).
    FlagKind, "flag kind" {
        /// No mail could be read from the bytes.
        Unreadable => "unreadable",
        /// Larger than the configured limit.
        TooLarge => "too_large",
        /// Processing failed.
        Error => "error",
        /// No usable From address.
        NoSender => "no_sender",
        /// A mail of a complaint bounced.
        Bounce => "bounce",
        /// A mail about a complaint from someone who is no party to it.
        NotAParty => "not_a_party",
        /// A mail on a closed complaint: the officer decides what it means.
        NeedsOfficer => "needs_officer",
        /// Registered from an address nobody reads, naming nobody: no acknowledgement.
        NoReplyAddress => "no_reply_address",
        /// Commands were not executed (no proof of the sender). Migration 0011 renamed the
        /// older spelling `refused_command`.
        CommandRefused => "command_refused",
        /// A mail the mailbox could not hand to the intake was quarantined.
        Quarantined => "quarantined",
        /// An outgoing mail could not be sent.
        SendFailed => "send_failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_automated_kind_has_its_message_kind() {
        for &kind in Automated::ALL {
            let message = MessageKind::automated(kind);
            assert_eq!(message.as_str(), format!("automated:{kind}"));
            assert!(!message.registered());
        }
    }

    #[test]
    fn stored_names_read_back() {
        for &k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Ok(k));
        }
        for &k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Ok(k));
        }
        for &k in FlagKind::ALL {
            assert_eq!(FlagKind::parse(k.as_str()), Ok(k));
        }
    }

    #[test]
    fn notes_forwards_and_applied_commands_count_as_registered() {
        for k in [
            MessageKind::PhoneNote,
            MessageKind::LetterNote,
            MessageKind::Forward,
            MessageKind::Command,
        ] {
            assert!(k.registered(), "{k}");
        }
        assert!(!MessageKind::CommandRefused.registered());
        assert!(!MessageKind::UnverifiedFollowUp.registered());
    }
}
