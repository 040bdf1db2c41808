//! The login, registration and code-guess brakes, shared by every node: one sorted set per
//! window in Redis, scored by the deciding node's clock (`Auth`'s throttles keep their own
//! windows too, and obey the stricter).

use crate::auth::{SharedWindows, Window};
use crate::domain::Millis;
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Drops what left the window; answers how many milliseconds the key must wait, or -1.
/// KEYS[1]: the window; ARGV: now, length (ms), limit.
const WAIT: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])
"#;

/// Records an event unless the window is full. ARGV: now, length (ms), limit, a unique member.
const RECORD: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"#;

pub struct RedisWindows {
    conn: ConnectionManager,
    node: String,
    events: AtomicU64,
}

impl RedisWindows {
    pub fn new(conn: ConnectionManager, node: &str) -> Self {
        Self {
            conn,
            node: node.to_owned(),
            events: AtomicU64::new(0),
        }
    }
}

fn key(window: &Window, key: &str) -> String {
    format!("parlor:throttle:{}:{key}", window.family)
}

fn millis(length: Duration) -> i64 {
    i64::try_from(length.as_millis()).unwrap_or(i64::MAX)
}

impl SharedWindows for RedisWindows {
    fn wait<'a>(
        &'a self,
        window: &'a Window,
        name: &'a str,
        now: Millis,
    ) -> BoxFuture<'a, Option<Duration>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let wait = redis::cmd("EVAL")
                .arg(WAIT)
                .arg(1)
                .arg(key(window, name))
                .arg(now)
                .arg(millis(window.length))
                .arg(window.limit)
                .query_async::<i64>(&mut conn)
                .await;
            match wait {
                Ok(ms) if ms >= 0 => Some(Duration::from_millis(ms.unsigned_abs())),
                Ok(_) => None,
                Err(err) => {
                    tracing::debug!(error = %err, "throttle: shared window unreachable");
                    None
                }
            }
        })
    }

    fn record<'a>(&'a self, window: &'a Window, name: &'a str, now: Millis) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let n = self.events.fetch_add(1, Ordering::Relaxed);
            let member = format!("{}:{n}:{now}", self.node);
            let recorded = redis::cmd("EVAL")
                .arg(RECORD)
                .arg(1)
                .arg(key(window, name))
                .arg(now)
                .arg(millis(window.length))
                .arg(window.limit)
                .arg(member)
                .query_async::<i64>(&mut conn)
                .await;
            if let Err(err) = recorded {
                tracing::debug!(error = %err, "throttle: shared window unreachable");
            }
        })
    }

    fn forget<'a>(&'a self, window: &'a Window, name: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(key(window, name))
                .query_async(&mut conn)
                .await;
        })
    }
}
