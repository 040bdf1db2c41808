//! Registered accounts: password accounts and key accounts (bots and scripts).

use super::{affected, StoreError};
use crate::domain::{Millis, Role};
use sqlx::AnyPool;

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub created_at: Millis,
    /// 1 when a moderator verified the account.
    pub verified: i64,
    /// When its premium ends (UTC millis); `None`: no premium. See `store/premium.rs`.
    pub premium_until: Option<Millis>,
}

impl UserRow {
    /// The stored role; an unknown value (a newer schema) counts as the least privileged.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::User)
    }
}

/// What creating an account needs. Exactly one of `password_hash` and `key_hash` is set.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub email: Option<(&'a str, &'a str)>,
    pub password_hash: Option<&'a str>,
    pub key_hash: Option<&'a str>,
    pub role: Role,
    pub created_at: Millis,
}

const COLUMNS: &str = "id, name, email, password_hash, role, created_at, verified, premium_until";

/// Queries on `users`.
#[derive(Clone, Copy, Debug)]
pub struct Users<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Users<'_> {
    pub async fn create(&self, new: NewUser<'_>) -> Result<UserRow, StoreError> {
        let sql = format!(
            "INSERT INTO users (name, name_key, email, email_key, password_hash, key_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as(&sql)
            .bind(new.name)
            .bind(new.name_key)
            .bind(new.email.map(|(email, _)| email))
            .bind(new.email.map(|(_, key)| key))
            .bind(new.password_hash)
            .bind(new.key_hash)
            .bind(new.role.as_str())
            .bind(new.created_at)
            .fetch_one(self.pool)
            .await?;
        Ok(row)
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn by_name_key(&self, name_key: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE name_key = $1");
        Ok(sqlx::query_as(&sql)
            .bind(name_key)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Finds a password login by user name or e-mail (both already case-folded).
    pub async fn by_login(&self, login_key: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE name_key = $1 OR email_key = $1");
        Ok(sqlx::query_as(&sql)
            .bind(login_key)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn by_key_hash(&self, key_hash: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE key_hash = $1");
        Ok(sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn email_registered(&self, email_key: &str) -> Result<bool, StoreError> {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email_key = $1")
            .bind(email_key)
            .fetch_optional(self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Replaces an account's password and revokes its sessions, in one transaction; returns
    /// the revoked sessions' hashes (to close live connections).
    pub async fn set_password(&self, user_id: i64, hash: &str) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let revoked: Vec<(String,)> =
            sqlx::query_as("DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(revoked.into_iter().map(|(hash,)| hash).collect())
    }

    /// Sets an account's password hash and role and revokes its sessions, in one transaction
    /// (an operator reset the account).
    pub async fn reset_credentials(
        &self,
        user_id: i64,
        hash: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, role = $2 WHERE id = $3")
            .bind(hash)
            .bind(role.as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accounts whose name contains `query` (case-insensitive), by name: a page.
    pub async fn search(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<UserRow>, StoreError> {
        let pattern = super::contains_pattern(&query.to_ascii_lowercase());
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE name_key LIKE $1 ESCAPE '\\' ORDER BY name_key LIMIT $2 OFFSET $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool)
            .await?)
    }

    pub async fn set_verified(&self, user_id: i64, verified: bool) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET verified = $1 WHERE id = $2")
            .bind(i64::from(verified))
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }

    /// Deletes an account; its sessions, memberships, bans, requests and ignore list go with it
    /// (the caller deletes the rooms it owns first, with their keys).
    /// The end-to-end rooms it was a member of start a new key epoch in the same transaction.
    pub async fn delete(&self, user_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE rooms SET e2e_epoch = e2e_epoch + 1 WHERE e2e = 1 AND id IN \
             (SELECT room_id FROM room_members WHERE user_id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(affected(result))
    }

    /// How many accounts hold `role` (the last root must stay).
    pub async fn count_with_role(&self, role: Role) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = $1")
            .bind(role.as_str())
            .fetch_one(self.pool)
            .await?;
        Ok(n)
    }

    /// The AI companion's account (`bot = 1`, no password or key), created if it does not
    /// exist yet. `None` when the name belongs to an account that is not the bot: a person
    /// must never be made to speak for the model.
    pub async fn ensure_bot(
        &self,
        name: &str,
        name_key: &str,
        created_at: Millis,
    ) -> Result<Option<i64>, StoreError> {
        let found: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, bot FROM users WHERE name_key = $1")
                .bind(name_key)
                .fetch_optional(self.pool)
                .await?;
        if let Some((id, bot)) = found {
            return Ok((bot != 0).then_some(id));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (name, name_key, role, created_at, bot) \
             VALUES ($1, $2, $3, $4, 1) RETURNING id",
        )
        .bind(name)
        .bind(name_key)
        .bind(Role::User.as_str())
        .bind(created_at)
        .fetch_one(self.pool)
        .await?;
        Ok(Some(id))
    }

    /// Whether an account is a bot (the AI companion).
    pub async fn is_bot(&self, user_id: i64) -> Result<bool, StoreError> {
        let bot: Option<(i64,)> = sqlx::query_as("SELECT bot FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool)
            .await?;
        Ok(bot.is_some_and(|(bot,)| bot != 0))
    }

    pub async fn set_role(&self, user_id: i64, role: Role) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(user_id)
            .execute(self.pool)
            .await?;
        Ok(affected(result))
    }
}
