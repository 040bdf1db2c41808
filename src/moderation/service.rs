//! The moderation service: rules, stored sanctions with an in-memory copy of those in force
//! (checked on every login, connection and message), and the audit log.

use super::audit::{identity_key, AuditLog};
use super::{Actor, AuditEntryView, AuditFilter, ModerationError, Sanction, Target};
use crate::clock::Clock;
use crate::domain::{Millis, Principal, Role};
use crate::store::{AuditEntry, NewSanction, Store};
use std::sync::{Arc, PoisonError, RwLock};

/// The longest a timed ban or mute may last: ten years (longer: leave the duration out).
const MAX_DURATION_SECS: u64 = 10 * 365 * 24 * 3600;

/// The moderation service. Cheap to clone.
#[derive(Clone)]
pub struct Moderation {
    store: Store,
    clock: Clock,
    in_force: Arc<RwLock<Vec<Sanction>>>,
    audit: Arc<AuditLog>,
}

impl Moderation {
    /// Loads the sanctions in force.
    pub async fn load(store: Store, clock: Clock) -> Result<Self, ModerationError> {
        let moderation = Self {
            audit: Arc::new(AuditLog::start(store.clone(), clock.clone())),
            store,
            clock,
            in_force: Arc::default(),
        };
        moderation.reload().await?;
        Ok(moderation)
    }

    /// Reads the sanctions in force again (another node changed them).
    pub async fn reload(&self) -> Result<(), ModerationError> {
        let active = self
            .store
            .sanctions()
            .active(self.clock.now_millis())
            .await?;
        *self
            .in_force
            .write()
            .unwrap_or_else(PoisonError::into_inner) =
            active.into_iter().map(Sanction::from).collect();
        Ok(())
    }

    fn find(&self, wanted: impl Fn(&Sanction) -> bool) -> Option<Sanction> {
        let now = self.clock.now_millis();
        self.in_force
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|s| s.expires_at.is_none_or(|at| at > now) && wanted(s))
            .cloned()
    }

    /// The ban that keeps this name or address out, if any. Address bans spare moderators and
    /// above, so staff cannot lock themselves out by banning a shared address.
    pub fn ban_on(&self, name_key: Option<&str>, ip: &str, role: Role) -> Option<Sanction> {
        self.find(|s| {
            s.kind == "ban"
                && (name_key.is_some_and(|n| s.name_key.as_deref() == Some(n))
                    || (!role.moderates() && s.ip.as_deref() == Some(ip)))
        })
    }

    /// The mute on this name, if any.
    pub fn mute_on(&self, name_key: &str) -> Option<Sanction> {
        self.find(|s| s.kind == "mute" && s.name_key.as_deref() == Some(name_key))
    }

    /// Checks that the actor outranks the target.
    pub fn check_rank(&self, actor: &Actor<'_>, target: &Target) -> Result<(), ModerationError> {
        if actor.identity.role.may_act_on(target.role) {
            Ok(())
        } else {
            Err(ModerationError::Forbidden)
        }
    }

    /// Bans a name (with the address given, if any) or only an address.
    pub async fn ban(
        &self,
        actor: &Actor<'_>,
        target: Option<&Target>,
        ip: Option<&str>,
        reason: Option<&str>,
        duration_secs: Option<u64>,
    ) -> Result<Sanction, ModerationError> {
        match target {
            Some(target) => self.check_rank(actor, target)?,
            None if actor.identity.role.moderates() => {}
            None => return Err(ModerationError::Forbidden),
        }
        if target.is_none() && ip.is_none() {
            return Err(ModerationError::Invalid("ban: a user, an ip, or both"));
        }
        let name_key = target.map(Target::name_key);
        let row = self
            .store
            .sanctions()
            .add(NewSanction {
                kind: "ban",
                name_key: name_key.as_deref(),
                ip,
                reason,
                created_by: &actor.identity.name,
                created_at: self.clock.now_millis(),
                expires_at: self.expiry(duration_secs)?,
            })
            .await?;
        self.reload().await?;
        let target_text = describe(name_key.as_deref(), ip);
        self.record(actor, "ban", Some(&target_text), reason)
            .await?;
        Ok(row.into())
    }

    /// Lifts the bans on a name or an address.
    pub async fn unban(
        &self,
        actor: &Actor<'_>,
        name_key: Option<&str>,
        ip: Option<&str>,
    ) -> Result<(), ModerationError> {
        if !actor.identity.role.moderates() {
            return Err(ModerationError::Forbidden);
        }
        let mut lifted = 0;
        if let Some(name_key) = name_key {
            lifted += self.store.sanctions().lift_by_name("ban", name_key).await?;
        }
        if let Some(ip) = ip {
            lifted += self.store.sanctions().lift_ip_bans(ip).await?;
        }
        if lifted == 0 {
            return Err(ModerationError::NothingToLift);
        }
        self.reload().await?;
        self.record(actor, "unban", Some(&describe(name_key, ip)), None)
            .await
    }

    pub async fn mute(
        &self,
        actor: &Actor<'_>,
        target: &Target,
        reason: Option<&str>,
        duration_secs: Option<u64>,
    ) -> Result<(), ModerationError> {
        self.check_rank(actor, target)?;
        self.store
            .sanctions()
            .add(NewSanction {
                kind: "mute",
                name_key: Some(&target.name_key()),
                ip: None,
                reason,
                created_by: &actor.identity.name,
                created_at: self.clock.now_millis(),
                expires_at: self.expiry(duration_secs)?,
            })
            .await?;
        self.reload().await?;
        self.record(actor, "mute", Some(&target.name), reason).await
    }

    pub async fn unmute(&self, actor: &Actor<'_>, target: &Target) -> Result<(), ModerationError> {
        self.check_rank(actor, target)?;
        if self
            .store
            .sanctions()
            .lift_by_name("mute", &target.name_key())
            .await?
            == 0
        {
            return Err(ModerationError::NothingToLift);
        }
        self.reload().await?;
        self.record(actor, "unmute", Some(&target.name), None).await
    }

    /// Sets or clears an account's verified badge.
    pub async fn verify(
        &self,
        actor: &Actor<'_>,
        target: &Target,
        verified: bool,
    ) -> Result<(), ModerationError> {
        self.check_rank(actor, target)?;
        let Some(Principal::User(user_id)) = target.principal else {
            return Err(ModerationError::Invalid("only accounts can be verified"));
        };
        self.store.users().set_verified(user_id, verified).await?;
        let action = if verified { "verify" } else { "unverify" };
        self.record(actor, action, Some(&target.name), None).await
    }

    /// Gives an account another global role.
    pub async fn set_role(
        &self,
        actor: &Actor<'_>,
        target: &Target,
        role: Role,
    ) -> Result<(), ModerationError> {
        if !actor.identity.role.may_assign(role, target.role) {
            return Err(ModerationError::Forbidden);
        }
        let Some(Principal::User(user_id)) = target.principal else {
            return Err(ModerationError::Invalid("only accounts have roles"));
        };
        if target.role == Role::Root && self.store.users().count_with_role(Role::Root).await? <= 1 {
            return Err(ModerationError::LastRoot);
        }
        self.store.users().set_role(user_id, role).await?;
        let detail = format!("{} -> {}", target.role.as_str(), role.as_str());
        self.record(actor, "set_role", Some(&target.name), Some(&detail))
            .await
    }

    /// Checks that the actor may move the target into a room: admins and root, from above.
    pub async fn check_move(
        &self,
        actor: &Actor<'_>,
        target: &Target,
    ) -> Result<(), ModerationError> {
        if actor.identity.role < Role::Admin {
            return Err(ModerationError::Forbidden);
        }
        self.check_rank(actor, target)
    }

    /// Checks that the actor may delete the target's account (admins and root, from above; the
    /// last root never), and audits it; the caller deletes.
    pub async fn check_delete(
        &self,
        actor: &Actor<'_>,
        target: &Target,
    ) -> Result<i64, ModerationError> {
        if actor.identity.role < Role::Admin {
            return Err(ModerationError::Forbidden);
        }
        self.check_rank(actor, target)?;
        let Some(Principal::User(user_id)) = target.principal else {
            return Err(ModerationError::Invalid("only accounts can be deleted"));
        };
        if target.role == Role::Root && self.store.users().count_with_role(Role::Root).await? <= 1 {
            return Err(ModerationError::LastRoot);
        }
        self.record(actor, "delete_user", Some(&target.name), None)
            .await?;
        Ok(user_id)
    }

    /// Records an action that changes nothing stored (a kick) after checking rank.
    pub async fn kick(
        &self,
        actor: &Actor<'_>,
        target: &Target,
        reason: Option<&str>,
    ) -> Result<(), ModerationError> {
        self.check_rank(actor, target)?;
        self.record(actor, "kick", Some(&target.name), reason).await
    }

    /// Writes an audit entry for an action by `actor` (also admin reads of transcripts).
    pub async fn record(
        &self,
        actor: &Actor<'_>,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), ModerationError> {
        self.audit
            .record_now(AuditEntry {
                ts: self.clock.now_millis(),
                actor: actor.identity.name.clone(),
                identity: Some(identity_key(actor.identity)),
                actor_ip: Some(actor.ip.clone()),
                action: action.to_owned(),
                target: target.map(str::to_owned),
                room: actor.room.clone(),
                detail: detail.map(str::to_owned),
            })
            .await?;
        Ok(())
    }

    /// The case-folded names an account ignores.
    pub async fn ignores_of(&self, user_id: i64) -> Result<Vec<String>, ModerationError> {
        Ok(self.store.ignores().of(user_id).await?)
    }

    /// Ignores (`true`) or stops ignoring a case-folded name.
    pub async fn set_ignore(
        &self,
        user_id: i64,
        name_key: &str,
        ignore: bool,
    ) -> Result<(), ModerationError> {
        if ignore {
            self.store
                .ignores()
                .add(user_id, name_key, self.clock.now_millis())
                .await?;
        } else {
            self.store.ignores().remove(user_id, name_key).await?;
        }
        Ok(())
    }

    /// The bans and mutes in force.
    pub fn in_force(&self) -> Vec<Sanction> {
        let now = self.clock.now_millis();
        self.in_force
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .cloned()
            .collect()
    }

    /// The audit log (message metadata is recorded through it).
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// A page of the audit log.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntryView>, ModerationError> {
        let rows = self.store.audit().page(&filter.to_store()).await?;
        Ok(rows.into_iter().map(AuditEntryView::from).collect())
    }

    /// When a sanction of this duration ends (none: never).
    fn expiry(&self, duration_secs: Option<u64>) -> Result<Option<Millis>, ModerationError> {
        match duration_secs {
            None => Ok(None),
            Some(secs) if (1..=MAX_DURATION_SECS).contains(&secs) => Ok(Some(
                self.clock.now_millis() + i64::try_from(secs * 1000).unwrap_or(i64::MAX / 2),
            )),
            Some(_) => Err(ModerationError::Invalid(
                "duration_secs: 1 second to 10 years (leave it out for no end)",
            )),
        }
    }

    /// Upkeep: deletes sanctions that ran out and refreshes the copy in force.
    pub async fn purge_expired(&self) -> Result<u64, ModerationError> {
        let purged = self
            .store
            .sanctions()
            .purge_expired(self.clock.now_millis())
            .await?;
        self.reload().await?;
        Ok(purged)
    }
}

fn describe(name_key: Option<&str>, ip: Option<&str>) -> String {
    match (name_key, ip) {
        (Some(name), Some(ip)) => format!("{name} @ {ip}"),
        (Some(name), None) => name.to_owned(),
        (None, Some(ip)) => ip.to_owned(),
        (None, None) => String::new(),
    }
}
