//! Where a message is in its life, as types. The `messages.status` CHECK
//! constraint (migration 0008) lists exactly [`MessageStatus::ALL`]; a test
//! compares the two. Queries in `store/messages.rs` keep the few statuses
//! that partial indexes are defined on as SQL literals: a bound parameter
//! would stop the planner from using those indexes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The status of an inbound message (ours) or of an outbound one (ours
/// until it is handed over, then Twilio's lifecycle, whose names are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    // Inbound.
    /// Stored, waiting for its turn.
    Received,
    /// Kept while its sender was over the rate limit; released later.
    RateLimited,
    /// An opt-out, opt-in or help keyword, answered by the webhook.
    Keyword,
    /// From a number that opted out: kept, never answered.
    OptedOut,
    /// Its reply is stored.
    Answered,
    /// Its sender was disabled or removed before its turn.
    Ignored,
    // Outbound, ours.
    /// Stored, not yet handed to the provider.
    Generated,
    /// Claimed by a sender (or, from Twilio, being sent).
    Sending,
    /// Not sent, by rule (opted out, disabled, no number, unreachable).
    Suppressed,
    // Outbound, Twilio's lifecycle.
    Accepted,
    Queued,
    Scheduled,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Twilio's spelling (reminders say "cancelled").
    Canceled,
    PartiallyDelivered,
    Read,
}

impl MessageStatus {
    /// Every status, as the CHECK constraint lists them.
    pub const ALL: [MessageStatus; 19] = [
        MessageStatus::Received,
        MessageStatus::RateLimited,
        MessageStatus::Keyword,
        MessageStatus::OptedOut,
        MessageStatus::Answered,
        MessageStatus::Ignored,
        MessageStatus::Generated,
        MessageStatus::Sending,
        MessageStatus::Suppressed,
        MessageStatus::Accepted,
        MessageStatus::Queued,
        MessageStatus::Scheduled,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Undelivered,
        MessageStatus::Failed,
        MessageStatus::Canceled,
        MessageStatus::PartiallyDelivered,
        MessageStatus::Read,
    ];

    pub fn as_str(self) -> &'static str {
        use MessageStatus::*;
        match self {
            Received => "received",
            RateLimited => "rate_limited",
            Keyword => "keyword",
            OptedOut => "opted_out",
            Answered => "answered",
            Ignored => "ignored",
            Generated => "generated",
            Sending => "sending",
            Suppressed => "suppressed",
            Accepted => "accepted",
            Queued => "queued",
            Scheduled => "scheduled",
            Sent => "sent",
            Delivered => "delivered",
            Undelivered => "undelivered",
            Failed => "failed",
            Canceled => "canceled",
            PartiallyDelivered => "partially_delivered",
            Read => "read",
        }
    }

    /// Where an outbound status sits in its lifecycle; a status callback
    /// never moves a message to a lower rank (a late "sent" does not undo
    /// "delivered"). Inbound statuses rank 0.
    pub fn rank(self) -> u8 {
        use MessageStatus::*;
        match self {
            Received | RateLimited | Keyword | OptedOut | Answered | Ignored | Generated => 0,
            Sending => 1,
            Accepted | Queued | Scheduled => 2,
            Sent => 3,
            Delivered | Undelivered | Failed | Canceled | PartiallyDelivered | Suppressed => 4,
            Read => 5,
        }
    }

    /// Handed to the provider (or refused for good): never sent again.
    pub fn is_handed_over(self) -> bool {
        self.rank() >= 2
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the stored name, as tests and SQL results read it.
impl PartialEq<&str> for MessageStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<&str> for Direction {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A status name we do not know (a provider may add some).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message status")]
pub struct UnknownStatus;

impl FromStr for MessageStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        MessageStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownStatus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_itself() {
        for status in MessageStatus::ALL {
            assert_eq!(status.as_str().parse::<MessageStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!("DELIVERED".parse(), Ok(MessageStatus::Delivered));
        assert_eq!("exploded".parse::<MessageStatus>(), Err(UnknownStatus));
    }

    #[test]
    fn callbacks_only_move_forward() {
        use MessageStatus::*;
        assert!(Sending.rank() < Queued.rank());
        assert!(Queued.rank() < Sent.rank());
        assert!(Sent.rank() < Delivered.rank());
        assert!(Delivered.rank() < Read.rank());
        assert_eq!(Undelivered.rank(), Delivered.rank());
    }
}
