//! The entry point of every framing: a decoded command runs, and its reply (with the client's
//! ack id) is queued on the connection, or an `error` event when the client asked for no ack.
//! Every refusal of a command or a frame passes `Chat::refuse`, where it is counted by code.

use super::{Chat, Command, Connection, CoreError};
use crate::metrics::Via;

impl Chat {
    /// Decodes a command from its wire name and JSON data, with this server's limits.
    pub fn decode(&self, name: &str, data: serde_json::Value) -> Result<Command, CoreError> {
        Command::parse(name, data, &self.limits)
    }

    /// Runs one command and queues its reply (with the client's ack id) on the connection.
    pub async fn dispatch(&self, conn: &mut Connection, command: Command, ack: Option<u64>) {
        conn.apply_badge_update();
        let name = command.name();
        conn.begin(ack);
        match command.apply(self, conn).await {
            Ok(answer) => conn.answer_with(answer),
            Err(err) => {
                tracing::debug!(
                    conn = conn.id(),
                    command = name,
                    code = err.code().as_str(),
                    "command refused"
                );
                self.refuse(conn, err);
            }
        }
    }

    /// Answers a frame that could not be decoded into a command.
    pub fn reply_error(&self, conn: &mut Connection, ack: Option<u64>, err: CoreError) {
        conn.begin(ack);
        self.refuse(conn, err);
    }

    fn refuse(&self, conn: &mut Connection, err: CoreError) {
        self.metrics.refused(err.code(), Via::RealTime);
        conn.refuse(err);
    }
}
