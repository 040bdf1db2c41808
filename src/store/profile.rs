//! What an account changes about itself: its preferences document, its name (with the names
//! it gave up, reserved for a while), its e-mail and its key. `users.rs` creates, finds and
//! deletes accounts; this file holds the changes their owner makes.

use super::{affected, StoreError};
use crate::domain::Millis;
use sqlx::AnyPool;

/// A rename, as the store carries it out.
#[derive(Debug)]
pub struct Rename<'a> {
    pub user_id: i64,
    pub old_key: &'a str,
    pub new_name: &'a str,
    pub new_key: &'a str,
    pub now: Millis,
    /// Until when the old name stays reserved for the account.
    pub reserve_until: Millis,
}

/// Queries on an account's own settings.
#[derive(Clone, Copy, Debug)]
pub struct Profiles<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Profiles<'_> {
    /// The account's stored preferences (JSON), if it ever saved any.
    pub async fn preferences(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT preferences FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.and_then(|(json,)| json))
    }

    /// Stores the preferences document, and whether the account appears offline.
    pub async fn set_preferences(
        &self,
        user_id: i64,
        json: &str,
        appear_offline: bool,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE users SET preferences = $1, appear_offline = $2 WHERE id = $3")
                .bind(json)
                .bind(i64::from(appear_offline))
                .bind(user_id)
                .execute(self.pool)
                .await?;
        Ok(affected(result))
    }

    /// The case-folded names of the accounts that chose not to show as online.
    pub async fn appearing_offline(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT name_key FROM users WHERE appear_offline = 1")
                .fetch_all(self.pool)
                .await?;
        Ok(rows.into_iter().map(|(key,)| key).collect())
    }

    /// Whether `name_key` is reserved for an account other than `except` (a name given up
    /// by a rename, not yet released).
    pub async fn reserved(
        &self,
        name_key: &str,
        except: Option<i64>,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM released_names WHERE name_key = $1 AND until > $2")
                .bind(name_key)
                .bind(now)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.is_some_and(|(holder,)| Some(holder) != except))
    }

    /// Renames an account in one transaction: its name, the reservation of the old name (and
    /// the end of any reservation of the new one it held), and the places that name an
    /// account by name rather than by id — bans and mutes, others' ignore lists, and the author
    /// name on its messages — so that they follow it. Returns the accounts that ignored the old
    /// name (their live ignore filters must change too). `Conflict` when the new name is an
    /// account's already.
    pub async fn rename(&self, rename: Rename<'_>) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET name = $1, name_key = $2 WHERE id = $3")
            .bind(rename.new_name)
            .bind(rename.new_key)
            .bind(rename.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM released_names WHERE name_key = $1 OR until <= $2")
            .bind(rename.new_key)
            .bind(rename.now)
            .execute(&mut *tx)
            .await?;
        if rename.old_key != rename.new_key {
            sqlx::query(
                "INSERT INTO released_names (name_key, user_id, released_at, until) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(rename.old_key)
            .bind(rename.user_id)
            .bind(rename.now)
            .bind(rename.reserve_until)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE sanctions SET name_key = $1 WHERE name_key = $2")
            .bind(rename.new_key)
            .bind(rename.old_key)
            .execute(&mut *tx)
            .await?;
        let ignorers: Vec<(i64,)> =
            sqlx::query_as("SELECT user_id FROM ignores WHERE ignored_key = $1")
                .bind(rename.old_key)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE ignores SET ignored_key = $1 WHERE ignored_key = $2 AND NOT EXISTS \
             (SELECT 1 FROM ignores i WHERE i.user_id = ignores.user_id AND i.ignored_key = $1)",
        )
        .bind(rename.new_key)
        .bind(rename.old_key)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM ignores WHERE ignored_key = $1")
            .bind(rename.old_key)
            .execute(&mut *tx)
            .await?;
        // Through the (room, author, client id) index, one probe per room, not a scan.
        sqlx::query(
            "UPDATE messages SET author_name = $1 WHERE author_id = $2 \
             AND room_id IN (SELECT id FROM rooms)",
        )
        .bind(rename.new_name)
        .bind(rename.user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ignorers.into_iter().map(|(id,)| id).collect())
    }

    /// Sets or removes (`None`) the account's e-mail (`(address, key)`).
    pub async fn set_email(
        &self,
        user_id: i64,
        email: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET email = $1, email_key = $2 WHERE id = $3")
            .bind(email.map(|(address, _)| address))
            .bind(email.map(|(_, key)| key))
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Whether the account signs in with a key (a bot or script) rather than a password.
    pub async fn is_key_account(&self, user_id: i64) -> Result<bool, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT key_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row.is_some_and(|(hash,)| hash.is_some()))
    }

    /// Replaces a key account's key (its hash); `false` when the account has none.
    pub async fn replace_key(&self, user_id: i64, key_hash: &str) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE users SET key_hash = $1 WHERE id = $2 AND key_hash IS NOT NULL")
                .bind(key_hash)
                .bind(user_id)
                .execute(self.pool)
                .await?;
        Ok(affected(result))
    }
}
