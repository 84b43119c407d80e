//! What a turn reads about its person before planning, in one query: who
//! they are, whether a pending action waits for a "yes", the latest
//! conversation summary, their connected accounts and today's model usage.
//! The agent's planner turns this into its `TurnFacts`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::users::UserRow;
use super::{ModelUsage, StoreError, User};
use crate::db::UserTx;

/// The stored facts a turn starts from.
pub struct StoredTurnFacts {
    pub user: User,
    /// A pending action is still waiting for the person's answer.
    pub has_pending_action: bool,
    pub summary: Option<String>,
    /// Providers whose integration is `connected`.
    pub connected_providers: Vec<String>,
    /// `(provider, scope)` for every scope granted to a connected one.
    pub granted_scopes: Vec<(String, String)>,
    /// Tokens per model since the start of the person's local day.
    pub usage_today: Vec<ModelUsage>,
}

#[derive(sqlx::FromRow)]
struct FactsRow {
    #[sqlx(flatten)]
    user: UserRow,
    has_pending_action: bool,
    summary: Option<String>,
    integrations: Vec<String>,
    scopes: Json<Vec<(String, String)>>,
    usage_today: Json<Vec<ModelUsage>>,
}

impl StoredTurnFacts {
    /// `None` when the transaction's person does not exist. "Today" and
    /// "still pending" are judged at `now`.
    pub async fn load(
        tx: &mut UserTx,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredTurnFacts>, StoreError> {
        let id = tx.uuid();
        let row: Option<FactsRow> = sqlx::query_as(
            "select u.id, u.display_name, u.timezone, u.locale, u.status, u.quiet_hours_start, \
                    u.quiet_hours_end, u.created_at, \
               exists(select 1 from pending_actions where user_id = u.id and status = 'pending' and expires_at > $1) \
                 as has_pending_action, \
               (select summary from conversation_summaries where user_id = u.id \
                 order by covers_until desc limit 1) as summary, \
               coalesce((select array_agg(provider) from oauth_integrations \
                 where user_id = u.id and status = 'connected'), \
                 '{}') as integrations, \
               (select coalesce(jsonb_agg(jsonb_build_array(i.provider, s.scope)), '[]'::jsonb) \
                 from oauth_integrations i cross join lateral unnest(i.scopes) as s(scope) \
                 where i.user_id = u.id and i.status = 'connected') as scopes, \
               (select coalesce(jsonb_agg(jsonb_build_object('model', m.model, \
                   'input_tokens', m.input_tokens, 'output_tokens', m.output_tokens, \
                   'total_tokens', m.total_tokens)), '[]'::jsonb) \
                 from (select model, sum(input_tokens)::bigint as input_tokens, \
                              sum(output_tokens)::bigint as output_tokens, \
                              sum(total_tokens)::bigint as total_tokens \
                         from llm_usage where user_id = u.id and created_at >= \
                           (date_trunc('day', $1 at time zone u.timezone) at time zone u.timezone) \
                        group by model) m) as usage_today \
             from users u where u.id = $2",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        Ok(row.map(|r| StoredTurnFacts {
            user: r.user.into(),
            has_pending_action: r.has_pending_action,
            summary: r.summary,
            connected_providers: r.integrations,
            granted_scopes: r.scopes.0,
            usage_today: r.usage_today.0,
        }))
    }
}
