//! What the moderation service hands out and takes in about its records: sanctions in force,
//! audit entries, and which audit entries to read. The store keeps its own row types; these
//! are the shapes the admin API serialises, so a schema change stays inside the store.

use crate::domain::Millis;
use crate::store::{AuditRow, SanctionRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A ban or a mute in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sanction {
    pub id: i64,
    /// `ban` or `mute`.
    pub kind: String,
    pub name_key: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

impl From<SanctionRow> for Sanction {
    fn from(row: SanctionRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            name_key: row.name_key,
            ip: row.ip,
            reason: row.reason,
            created_by: row.created_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub ts: Millis,
    /// The actor's name as shown.
    pub actor: String,
    /// `user:<id>` or `guest:<public id>`.
    pub identity: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub room: Option<String>,
    pub detail: Option<String>,
}

impl From<AuditRow> for AuditEntryView {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            ts: row.ts,
            actor: row.actor,
            identity: row.identity,
            actor_ip: row.actor_ip,
            action: row.action,
            target: row.target,
            room: row.room,
            detail: row.detail,
        }
    }
}

/// Which audit entries to read. Absent fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub ip: Option<String>,
    /// `user:<id>` or `guest:<public id>`.
    pub identity: Option<String>,
    pub actor: Option<String>,
    pub room: Option<String>,
    pub action: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Entries with an id below this (the cursor of the next page).
    pub before: i64,
    pub limit: i64,
}

impl AuditFilter {
    /// The store's form of this filter.
    pub(super) fn to_store(&self) -> crate::store::AuditFilter {
        crate::store::AuditFilter {
            ip: self.ip.clone(),
            identity: self.identity.clone(),
            actor: self.actor.clone(),
            room: self.room.clone(),
            action: self.action.clone(),
            from: self.from,
            to: self.to,
            before: self.before,
            limit: self.limit,
        }
    }
}
