//! What the admin panel reads: accounts, sanctions in force, live connections, every room,
//! transcripts and archives (each read audited), and the audit log with its text search; and
//! what `/metrics` reads when scraped (how full this node's queues are).
//! Changes go through the same services as everyone's (moderation commands, room services).

use crate::auth::Auth;
use crate::core::event::CloseReason;
use crate::core::{Bus, CoreError, Directive, Hub, LiveConnection, OnlineRegistry};
use crate::domain::Role;
use crate::metrics::{BusBacklog, QueueDepths};
use crate::moderation::{Actor, AuditEntryView, AuditFilter, Moderation, Sanction};
use crate::rooms::{AdminRoom, ArchiveView, MessageOpener, PlainMessage, Rooms};
use serde::Serialize;
use std::sync::Arc;

/// Audit entries one text search reads before it answers with what it found (and a cursor).
const AUDIT_SCAN: usize = 20_000;

/// An account as the admin panel lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdminUser {
    pub name: String,
    /// `user:<id>`, as the audit log names accounts.
    pub identity: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub verified: bool,
    pub online: bool,
    pub created_at: i64,
    /// When the account's premium ends (UTC millis; `null` without premium; 253402300799999:
    /// forever). Past ends are kept: the panel shows them as lapsed.
    pub premium_until: Option<i64>,
}

pub struct Oversight {
    auth: Arc<Auth>,
    moderation: Arc<Moderation>,
    rooms: Arc<Rooms>,
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    names: OnlineRegistry,
}

impl Oversight {
    pub fn new(
        auth: Arc<Auth>,
        moderation: Arc<Moderation>,
        rooms: Arc<Rooms>,
        hub: Arc<Hub>,
        bus: Arc<dyn Bus>,
    ) -> Self {
        Self {
            names: OnlineRegistry::new(Arc::clone(&hub), Arc::clone(&bus)),
            auth,
            moderation,
            rooms,
            hub,
            bus,
        }
    }

    /// How full this node's queues are now (for `/metrics`): the connections' outbound queues
    /// and, with several nodes, the bus's publisher.
    pub fn queues(&self) -> (QueueDepths, Option<BusBacklog>) {
        (self.hub.outbound_queues(), self.bus.backlog())
    }

    /// Accounts whose name contains `q`.
    pub async fn users(
        &self,
        q: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AdminUser>, CoreError> {
        let accounts = self.auth.search_users(q, limit, offset).await?;
        let mut users = Vec::with_capacity(accounts.len());
        for u in accounts {
            users.push(AdminUser {
                identity: format!("user:{}", u.id),
                online: self.names.is_online(&u.name.to_ascii_lowercase()).await,
                role: u.role,
                verified: u.verified,
                created_at: u.created_at,
                premium_until: u.premium_until,
                name: u.name,
            });
        }
        Ok(users)
    }

    /// The bans and mutes in force.
    pub fn sanctions(&self) -> Vec<Sanction> {
        self.moderation.in_force()
    }

    /// Every open connection, on every node: who, from where, in which rooms, since when.
    pub async fn connections(&self) -> Vec<LiveConnection> {
        let mut live = self.bus.connections().await;
        live.sort_by_key(|c| (c.since, c.id));
        live
    }

    /// Closes one connection, on whichever node holds it (the client hears it was kicked);
    /// `false` if there is none.
    pub async fn close_connection(&self, id: u64) -> bool {
        if self.hub.close_connection(id, CloseReason::Kicked) {
            return true;
        }
        if !self.connections().await.iter().any(|c| c.id == id) {
            return false;
        }
        self.bus.direct(Directive::CloseConnection { id });
        true
    }

    /// How many distinct stored messages were found not to decrypt since start-up.
    pub fn undecryptable_messages(&self) -> u64 {
        self.rooms.history().undecryptable_count()
    }

    /// Every room, conversation and live ephemeral room.
    pub async fn rooms(&self) -> Result<Vec<AdminRoom>, CoreError> {
        Ok(self.rooms.admin().all().await?)
    }

    /// A page of any room's transcript; the read is audited.
    pub async fn transcript(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        before: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PlainMessage>, CoreError> {
        let messages = self.rooms.admin().transcript(slug, before, limit).await?;
        self.moderation
            .record(actor, "read_transcript", Some(slug), None)
            .await?;
        Ok(messages)
    }

    /// Whether a room is end-to-end: its transcript shows metadata only.
    pub async fn is_e2e(&self, slug: &str) -> Result<bool, CoreError> {
        let room = match self.rooms.find(slug).await? {
            Some(room) => Some(room),
            None => self.rooms.find(&slug.to_ascii_lowercase()).await?,
        };
        Ok(room.is_some_and(|room| room.e2e))
    }

    /// Expired ephemeral rooms' transcripts, newest first; the read is audited.
    pub async fn archives(
        &self,
        actor: &Actor<'_>,
        limit: i64,
        before: i64,
    ) -> Result<Vec<ArchiveView>, CoreError> {
        let archives = self.rooms.admin().archives(limit, before).await?;
        self.moderation
            .record(actor, "read_archives", Some("archives"), None)
            .await?;
        Ok(archives)
    }

    /// A page of the audit log and the cursor of the next one. With `text`, entries match
    /// when their action, target or detail contains it, or — for stored messages — when the
    /// message's text does (decrypted here); at most [`AUDIT_SCAN`] entries are read per page.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        text: Option<&str>,
    ) -> Result<(Vec<AuditEntryView>, Option<i64>), CoreError> {
        let Some(needle) = text.map(str::to_lowercase) else {
            let rows = self.moderation.audit_page(filter).await?;
            let next = full_page_cursor(&rows, filter.limit);
            return Ok((rows, next));
        };
        let mut scan = AuditFilter {
            limit: 500,
            ..filter.clone()
        };
        let mut opener = self.rooms.admin().opener();
        let (mut found, mut scanned) = (Vec::new(), 0);
        loop {
            let rows = self.moderation.audit_page(&scan).await?;
            if rows.is_empty() {
                return Ok((found, None));
            }
            for row in rows {
                scan.before = row.id;
                scanned += 1;
                if audit_text_matches(&row, &needle, &mut opener).await? {
                    found.push(row);
                }
                if found.len() as i64 == filter.limit || scanned >= AUDIT_SCAN {
                    return Ok((found, Some(scan.before)));
                }
            }
        }
    }
}

fn full_page_cursor(rows: &[AuditEntryView], limit: i64) -> Option<i64> {
    (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten()
}

async fn audit_text_matches(
    row: &AuditEntryView,
    needle: &str,
    opener: &mut MessageOpener<'_>,
) -> Result<bool, CoreError> {
    let fields = [Some(&row.action), row.target.as_ref(), row.detail.as_ref()];
    if fields
        .into_iter()
        .flatten()
        .any(|f| f.to_lowercase().contains(needle))
    {
        return Ok(true);
    }
    let stored = row
        .detail
        .as_deref()
        .and_then(|d| d.strip_prefix("seq "))
        .and_then(|seq| seq.parse::<i64>().ok());
    match (row.action.as_str(), &row.room, stored) {
        ("message", Some(room), Some(seq)) => Ok(opener
            .text(room, seq)
            .await?
            .is_some_and(|text| text.to_lowercase().contains(needle))),
        _ => Ok(false),
    }
}
