//! What every text Nudge sends unasked goes through (a nudge, a bookmark's
//! offer, a focus check-in): the person's switch for that kind, STOP and
//! quiet hours; then the text is stored and its delivery enqueued in the
//! caller's transaction, on the reminders' delivery queue (paced, never
//! ahead of replies).

use chrono::{DateTime, Utc};

use crate::db::UserTx;
use crate::db::queue::{self, DeliverReminderJob, DeliverSmsJob, JobOptions};
use crate::reminders::Person;
use crate::store::{FollowThrough, PhoneRecord, Proactive, SmsMessage, StoreError, User};

/// Whether a proactive text may go now.
pub enum Gate {
    Open(User),
    /// Not now, and why (for metrics).
    Closed(&'static str),
}

pub async fn gate(
    tx: &mut UserTx,
    kind: Proactive,
    now: DateTime<Utc>,
) -> Result<Gate, StoreError> {
    let user = User::current(tx).await?;
    if !FollowThrough::load(tx).await?.allows(kind) {
        return Ok(Gate::Closed("turned_off"));
    }
    let phone = PhoneRecord::primary(tx).await?;
    if phone.is_none_or(|p| p.opted_out_at.is_some()) {
        return Ok(Gate::Closed("opted_out"));
    }
    let person = Person {
        tz: user.tz(),
        quiet_hours: user.quiet_hours_start.zip(user.quiet_hours_end),
    };
    if person.quiet_at(now) {
        return Ok(Gate::Closed("quiet_hours"));
    }
    Ok(Gate::Open(user))
}

/// Stores `body` under `key` (a retried job finds it there) and enqueues
/// its delivery.
pub async fn send(tx: &mut UserTx, body: &str, key: &str) -> Result<(), StoreError> {
    let message = SmsMessage::insert_outbound(tx, body, key, None).await?;
    let job = DeliverReminderJob(DeliverSmsJob {
        user_id: tx.uuid(),
        message_id: message.id,
    });
    queue::enqueue(tx.conn(), &job, JobOptions::default()).await?;
    Ok(())
}
