//! Global roles, ordered: root > admin > mod > user.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A user's global role. The derived order is the hierarchy: a later variant outranks an
/// earlier one.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    User,
    Mod,
    Admin,
    Root,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Mod => "mod",
            Role::Admin => "admin",
            Role::Root => "root",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "mod" => Ok(Role::Mod),
            "admin" => Ok(Role::Admin),
            "root" => Ok(Role::Root),
            other => Err(format!("unknown role {other:?} (user, mod, admin, root)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rank() {
        assert!(Role::Root > Role::Admin && Role::Admin > Role::Mod && Role::Mod > Role::User);
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in [Role::User, Role::Mod, Role::Admin, Role::Root] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
