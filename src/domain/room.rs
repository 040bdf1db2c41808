//! Room rules: slugs, display names, topics, room roles and what each role may do.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The public room every identity can join; its name is reserved.
pub const LOBBY: &str = "lobby";

/// A room's unique address: 2–40 characters of `[a-z0-9-]`, not starting or ending with `-`,
/// compared lower-cased. `/room/<slug>` opens it in the browser.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoomSlug(String);

const MAX_SLUG_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomRuleError {
    #[error(
        "a room address is 2 to 40 characters of a-z, 0-9 and '-', not starting or ending with '-'"
    )]
    Slug,
    #[error("that room address is reserved")]
    Reserved,
    #[error("a room name is 1 to 60 characters")]
    Name,
    #[error("a topic is at most 200 characters")]
    Topic,
}

impl RoomSlug {
    pub fn parse(raw: &str) -> Result<Self, RoomRuleError> {
        let slug = raw.trim().to_ascii_lowercase();
        let valid_chars = slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(2..=MAX_SLUG_LEN).contains(&slug.len())
            || !valid_chars
            || slug.starts_with('-')
            || slug.ends_with('-')
        {
            return Err(RoomRuleError::Slug);
        }
        if slug == LOBBY {
            return Err(RoomRuleError::Reserved);
        }
        Ok(Self(slug))
    }

    /// The address of a private room asked for as this slug: the slug (cut to leave space), a
    /// `-`, and `suffix` (random `[a-z0-9]` from the caller). A private room must answer
    /// outsiders like an address no room holds; with addresses anyone could type, creating a
    /// room there would answer "taken" and tell them one exists. An unguessable suffix takes
    /// private rooms out of the address space people type in.
    pub fn private(&self, suffix: &str) -> RoomSlug {
        let keep = MAX_SLUG_LEN.saturating_sub(suffix.len() + 1);
        let base = self.0[..self.0.len().min(keep)].trim_end_matches('-');
        RoomSlug(format!("{base}-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's display name: trimmed, 1–60 characters.
pub fn parse_room_name(raw: &str) -> Result<String, RoomRuleError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(RoomRuleError::Name);
    }
    Ok(name.to_owned())
}

/// A room's topic: trimmed, at most 200 characters; empty means none.
pub fn parse_topic(raw: &str) -> Result<Option<String>, RoomRuleError> {
    let topic = raw.trim();
    if topic.chars().count() > 200 {
        return Err(RoomRuleError::Topic);
    }
    Ok((!topic.is_empty()).then(|| topic.to_owned()))
}

/// A member's role inside one room. The derived order is the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    /// A guest in a public room that admits guests: reads and writes while there, is never
    /// stored as a member, and is below every member.
    Guest,
    Member,
    Admin,
    Owner,
}

impl RoomRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomRole::Guest => "guest",
            RoomRole::Member => "member",
            RoomRole::Admin => "admin",
            RoomRole::Owner => "owner",
        }
    }

    /// Invites, access decisions, removals, bans, history and settings: admins and the owner.
    pub fn moderates(self) -> bool {
        self >= RoomRole::Admin
    }

    /// Whether a member in this role may remove or ban a member in `target`'s role: only
    /// from above.
    pub fn may_act_on(self, target: RoomRole) -> bool {
        self.moderates() && self > target
    }
}

impl FromStr for RoomRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "guest" => Ok(RoomRole::Guest),
            "member" => Ok(RoomRole::Member),
            "admin" => Ok(RoomRole::Admin),
            "owner" => Ok(RoomRole::Owner),
            other => Err(format!("unknown room role {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_cased_and_checked() {
        assert_eq!(RoomSlug::parse("Rust-Fans").unwrap().as_str(), "rust-fans");
        for bad in ["a", "-ab", "ab-", "a b", "ünï", &"x".repeat(41)] {
            assert_eq!(RoomSlug::parse(bad), Err(RoomRuleError::Slug), "{bad}");
        }
        assert_eq!(RoomSlug::parse("Lobby"), Err(RoomRuleError::Reserved));
    }

    #[test]
    fn a_private_address_is_the_slug_a_dash_and_the_suffix_within_the_limit() {
        let slug = RoomSlug::parse("team").unwrap();
        assert_eq!(slug.private("k3x9q2mz").as_str(), "team-k3x9q2mz");
        let long = RoomSlug::parse(&format!("{}-b", "a".repeat(30))).unwrap();
        let private = long.private("k3x9q2mz");
        assert_eq!(private.as_str(), format!("{}-k3x9q2mz", "a".repeat(30)));
        assert_eq!(RoomSlug::parse(private.as_str()), Ok(private.clone()));
        let longest = RoomSlug::parse(&"z".repeat(40))
            .unwrap()
            .private("k3x9q2mz");
        assert_eq!(longest.as_str().len(), 40);
        assert_eq!(RoomSlug::parse(longest.as_str()), Ok(longest));
    }

    #[test]
    fn only_higher_room_roles_act_on_lower_ones() {
        use RoomRole::*;
        assert!(Owner.may_act_on(Admin) && Owner.may_act_on(Member) && Admin.may_act_on(Member));
        assert!(!Admin.may_act_on(Admin) && !Admin.may_act_on(Owner) && !Member.may_act_on(Member));
        assert!(Admin.may_act_on(Guest) && !Member.may_act_on(Guest) && !Guest.moderates());
    }

    #[test]
    fn names_and_topics_are_trimmed_and_bounded() {
        assert_eq!(parse_room_name("  Rust  ").unwrap(), "Rust");
        assert!(parse_room_name(" ").is_err());
        assert_eq!(parse_topic("  ").unwrap(), None);
        assert!(parse_topic(&"t".repeat(201)).is_err());
    }
}
