//! Searching the messages one may read (`search`): the same fields as `GET /api/search`,
//! parsed here into a [`SearchQuery`] (a bad field is `invalid_payload`).

use super::{Apply, Decode, Limits};
use crate::core::{Chat, Connection, CoreError};
use crate::search::{RawQuery, SearchPage, SearchQuery};
use serde_json::Value;

impl Decode for SearchQuery {
    fn decode(data: Value, _: &Limits) -> Result<Self, CoreError> {
        let raw: RawQuery = super::shape(data)?;
        SearchQuery::parse(raw).map_err(|e| CoreError::InvalidPayload(e.to_string()))
    }
}

impl Apply for SearchQuery {
    type Reply = SearchPage;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<SearchPage, CoreError> {
        Ok(chat.search.search(conn.identified()?, &self).await?)
    }
}
