//! Real-time connections per client address, counted by every node together: a hash per
//! address in Redis with one count per node. A dead node's counts stop counting (its
//! heartbeat is gone) and are removed by the next connection from that address.

use super::wire;
use crate::http::{Entered, SharedCounts};
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::net::IpAddr;

/// KEYS[1]: the address's hash; ARGV: node, limit, heartbeat key prefix. 1 when counted.
const ENTER: &str = r#"
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if fields[i] == ARGV[1] or redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
if total >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1
"#;

/// KEYS[1]: the address's hash; ARGV: node.
const LEAVE: &str = r#"
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"#;

pub struct RedisCounts {
    conn: ConnectionManager,
    node: String,
}

impl RedisCounts {
    pub fn new(conn: ConnectionManager, node: &str) -> Self {
        Self {
            conn,
            node: node.to_owned(),
        }
    }
}

fn key(ip: IpAddr) -> String {
    format!("parlor:conns:{ip}")
}

impl SharedCounts for RedisCounts {
    fn enter(&self, ip: IpAddr, limit: usize) -> BoxFuture<'_, Entered> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let counted = redis::cmd("EVAL")
                .arg(ENTER)
                .arg(1)
                .arg(key(ip))
                .arg(&self.node)
                .arg(limit)
                .arg(wire::node_key_prefix())
                .query_async::<i64>(&mut conn)
                .await;
            match counted {
                Ok(1) => Entered::Counted,
                Ok(_) => Entered::Refused,
                Err(err) => {
                    tracing::debug!(error = %err, "gate: shared count unreachable");
                    Entered::Unknown
                }
            }
        })
    }

    fn leave(&self, ip: IpAddr) {
        let (mut conn, node) = (self.conn.clone(), self.node.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _: Result<i64, _> = redis::cmd("EVAL")
                .arg(LEAVE)
                .arg(1)
                .arg(key(ip))
                .arg(node)
                .query_async(&mut conn)
                .await;
        });
    }
}
