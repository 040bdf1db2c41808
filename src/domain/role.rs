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
    /// Kick, ban, mute, verify: moderators and above.
    pub fn moderates(self) -> bool {
        self >= Role::Mod
    }

    /// Whether someone in this role may act on someone in `target`'s role: only from above.
    pub fn may_act_on(self, target: Role) -> bool {
        self.moderates() && self > target
    }

    /// Whether someone in this role may give `role` to someone in `target`'s role: admins and
    /// root, on people below them, up to (not including) their own level.
    pub fn may_assign(self, role: Role, target: Role) -> bool {
        self >= Role::Admin && self > target && self > role
    }

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
    fn nobody_acts_on_a_peer_or_above() {
        use Role::*;
        let all = [User, Mod, Admin, Root];
        for actor in all {
            for target in all {
                let expected = actor >= Mod && actor > target;
                assert_eq!(
                    actor.may_act_on(target),
                    expected,
                    "{actor:?} on {target:?}"
                );
            }
        }
    }

    #[test]
    fn roles_are_given_only_below_ones_own() {
        use Role::*;
        assert!(Admin.may_assign(Mod, User) && Root.may_assign(Admin, Mod));
        assert!(!Admin.may_assign(Admin, User), "not up to one's own level");
        assert!(!Admin.may_assign(User, Admin), "not on a peer");
        assert!(!Mod.may_assign(User, User), "mods assign nothing");
        assert!(!Root.may_assign(Root, Admin));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in [Role::User, Role::Mod, Role::Admin, Role::Root] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
