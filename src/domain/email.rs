//! E-mail addresses of registered accounts: validated, compared case-insensitively.

use std::str::FromStr;

/// A syntactically valid e-mail address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid e-mail address")]
pub struct EmailError;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        // The RFC allows addresses without a dot in the domain; a chat server's users do not
        // have them, and accepting them mostly admits typos.
        let has_dotted_domain = trimmed
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'));
        if trimmed.len() > 254 || !has_dotted_domain {
            return Err(EmailError);
        }
        email_address::EmailAddress::from_str(trimmed).map_err(|_| EmailError)?;
        Ok(Self(trimmed.to_owned()))
    }

    /// The case-folded key used for uniqueness and look-up.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            Email::parse(" Ann@Example.org ").unwrap().key(),
            "ann@example.org"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@localhost",
            "a b@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
