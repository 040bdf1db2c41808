//! Who a session stands for: a registered account or a guest. Every layer names identities
//! by this type (presence, fan-out, moderation, the store's session rows), so it lives here,
//! below all of them, rather than in the store that happens to persist it.

/// Whom a session stands for. (Ordered only so that lists can break ties stably.)
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Principal {
    User(i64),
    Guest(i64),
}

impl Principal {
    /// A stable text form for columns that may hold either kind: `user:<id>` or `guest:<id>`.
    pub fn key(&self) -> String {
        match self {
            Principal::User(id) => format!("user:{id}"),
            Principal::Guest(id) => format!("guest:{id}"),
        }
    }

    /// Reads [`Principal::key`]'s form back.
    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "user" => Some(Principal::User(id)),
            "guest" => Some(Principal::Guest(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_kind_and_the_id() {
        assert_eq!(Principal::User(7).key(), "user:7");
        assert_eq!(Principal::Guest(7).key(), "guest:7");
        assert_eq!(Principal::from_key("guest:7"), Some(Principal::Guest(7)));
        assert_eq!(Principal::from_key("user:-1"), Some(Principal::User(-1)));
        assert_eq!(Principal::from_key("bot:7"), None);
    }
}
