//! The SASL initial responses that carry a bearer token: Google's and Microsoft's XOAUTH2 and
//! the standard OAUTHBEARER (RFC 7628). Both servers and Dovecot answer a refused token with
//! a JSON challenge the client must acknowledge before the final NO.

/// Which mechanism a login uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// `XOAUTH2`: what Microsoft 365 offers (Google and Dovecot too).
    Xoauth2,
    /// `OAUTHBEARER` (RFC 7628): preferred where offered.
    OauthBearer,
}

impl Mechanism {
    /// The SASL name.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::OauthBearer => "OAUTHBEARER",
        }
    }

    /// OAUTHBEARER when the server advertises it, else XOAUTH2 (which servers that take
    /// tokens offer even when they do not advertise it before TLS).
    pub fn choose<'a>(auth_mechanisms: impl IntoIterator<Item = &'a str>) -> Mechanism {
        if auth_mechanisms
            .into_iter()
            .any(|m| m.eq_ignore_ascii_case("OAUTHBEARER"))
        {
            Mechanism::OauthBearer
        } else {
            Mechanism::Xoauth2
        }
    }

    /// The initial client response (before base64) for `user` with `token`.
    pub fn initial_response(self, user: &str, token: &str) -> String {
        match self {
            Mechanism::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            // RFC 7628 §3.1: GS2 header with the authzid, then key=value pairs.
            Mechanism::OauthBearer => format!("n,a={user},\x01auth=Bearer {token}\x01\x01"),
        }
    }

    /// The answer to the server's error challenge: empty for XOAUTH2, a lone ^A for
    /// OAUTHBEARER (RFC 7628 §3.2.3).
    pub fn error_ack(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "",
            Mechanism::OauthBearer => "\x01",
        }
    }
}

/// An async-imap authenticator for one token login.
#[derive(Debug)]
pub struct TokenAuthenticator {
    mechanism: Mechanism,
    initial: String,
    sent: bool,
}

impl TokenAuthenticator {
    /// The authenticator for `user` with `token`.
    pub fn new(mechanism: Mechanism, user: &str, token: &str) -> Self {
        TokenAuthenticator {
            mechanism,
            initial: mechanism.initial_response(user, token),
            sent: false,
        }
    }
}

impl async_imap::Authenticator for TokenAuthenticator {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if self.sent {
            // The challenge is the server's JSON error; acknowledging it gets the final NO.
            self.mechanism.error_ack().to_string()
        } else {
            self.sent = true;
            self.initial.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_is_user_and_bearer_separated_by_ctrl_a() {
        assert_eq!(
            Mechanism::Xoauth2.initial_response("kl@x.test", "tok"),
            "user=kl@x.test\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn oauthbearer_has_the_gs2_header() {
        assert_eq!(
            Mechanism::OauthBearer.initial_response("kl@x.test", "tok"),
            "n,a=kl@x.test,\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn oauthbearer_is_chosen_only_when_offered() {
        assert_eq!(Mechanism::choose(["PLAIN", "XOAUTH2"]), Mechanism::Xoauth2);
        assert_eq!(
            Mechanism::choose(["XOAUTH2", "oauthbearer"]),
            Mechanism::OauthBearer
        );
        assert_eq!(Mechanism::choose([]), Mechanism::Xoauth2);
    }

    #[test]
    fn the_error_challenge_is_acknowledged_once_the_token_was_sent() {
        use async_imap::Authenticator;
        let mut a = TokenAuthenticator::new(Mechanism::OauthBearer, "u", "t");
        assert!(a.process(b"").contains("Bearer t"));
        assert_eq!(a.process(b"{\"status\":\"401\"}"), "\x01");
    }
}
