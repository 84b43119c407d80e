//! Twilio error codes that say something about the number or the sender,
//! acted on the same way whether they come in the send response or in a
//! status callback.
//!
//! - 21610: the person opted out at Twilio; the number is marked opted out.
//! - 30003, 30005, 30006 (and 21614, the send-time "not a mobile number"):
//!   the number cannot receive texts; it is marked unreachable, nothing is
//!   sent to it (reminders included) until it texts in again, and the
//!   operator sees it in `nudge admin user show`, the audit log and
//!   `sms_numbers_unreachable_total{reason}`.
//! - 30007, 30034 and the other campaign-level failures: the same text
//!   would be refused again, so it is never retried; each is counted in
//!   `sms_delivery_errors_total{code}` for alerting.
//!
//! Every code is counted in `sms_delivery_errors_total{code}`.

use serde_json::json;

use crate::db::UserTx;
use crate::store::{Actor, PhoneRecord, StoreError, record_audit};

/// Why a number cannot receive texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// 30003: the handset is off, out of coverage, or blocked.
    Handset,
    /// 30005: the number does not exist at the carrier.
    UnknownNumber,
    /// 30006 (21614 at send time): a landline, or a line that cannot take SMS.
    Landline,
}

impl Unreachable {
    /// The stored reason, as the database's check constraint spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unreachable::Handset => "unreachable",
            Unreachable::UnknownNumber => "unknown_number",
            Unreachable::Landline => "landline",
        }
    }
}

/// What an error code means for Nudge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierError {
    OptedOut,
    Unreachable(Unreachable),
    /// The sender or campaign is refused (filtering, unregistered A2P,
    /// blocked content): an operator matter, never retried.
    Campaign,
    /// Anything else: recorded on the message and counted.
    Other,
}

impl CarrierError {
    pub fn of(code: &str) -> CarrierError {
        match code.trim() {
            "21610" => CarrierError::OptedOut,
            "30003" => CarrierError::Unreachable(Unreachable::Handset),
            "30005" => CarrierError::Unreachable(Unreachable::UnknownNumber),
            "30006" | "21614" => CarrierError::Unreachable(Unreachable::Landline),
            // Carrier filtering, A2P 10DLC (unregistered, throughput, daily
            // cap, campaign suspended), toll-free verification, blocked content.
            "30007" | "30008" | "30023" | "30024" | "30027" | "30032" | "30034" | "30035"
            | "30036" | "30037" => CarrierError::Campaign,
            _ => CarrierError::Other,
        }
    }

    /// Whether the same message could never succeed later: such failures
    /// must not be retried as if the provider were briefly unavailable.
    pub fn is_permanent(self) -> bool {
        !matches!(self, CarrierError::Other)
    }
}

/// A metric label for a code: the digits Twilio sends, or "other" (the
/// label set stays bounded whatever arrives).
fn code_label(code: &str) -> String {
    let code = code.trim();
    if (1..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        code.to_string()
    } else {
        "other".to_string()
    }
}

/// Acts on an error code for the number `e164` of the person in `tx`.
/// `source` says where it came from ("send" or "status_callback").
pub async fn act_on(
    tx: &mut UserTx,
    e164: Option<&str>,
    code: &str,
    source: &'static str,
) -> Result<CarrierError, StoreError> {
    let kind = CarrierError::of(code);
    metrics::counter!("sms_delivery_errors_total", "code" => code_label(code)).increment(1);
    let Some(e164) = e164.filter(|n| !n.is_empty()) else {
        return Ok(kind);
    };
    match kind {
        CarrierError::OptedOut => PhoneRecord::set_opted_out(tx, e164, true).await?,
        CarrierError::Unreachable(reason) => {
            if let Some(phone_id) =
                PhoneRecord::mark_unreachable(tx, e164, reason.as_str(), code).await?
            {
                let user = tx.user_id();
                record_audit(
                    tx.conn(),
                    Some(user),
                    Actor::System,
                    "phone.unreachable",
                    json!({ "phone_id": phone_id, "reason": reason.as_str(), "code": code, "source": source }),
                )
                .await?;
                metrics::counter!("sms_numbers_unreachable_total", "reason" => reason.as_str())
                    .increment(1);
                tracing::warn!(
                    code,
                    reason = reason.as_str(),
                    source,
                    "number marked unreachable; nothing more is sent to it"
                );
            }
        }
        CarrierError::Campaign => {
            tracing::error!(
                code,
                source,
                "carrier refused the sender or campaign; check the A2P registration"
            );
        }
        CarrierError::Other => {}
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_actions() {
        assert_eq!(CarrierError::of("21610"), CarrierError::OptedOut);
        assert_eq!(
            CarrierError::of("30006"),
            CarrierError::Unreachable(Unreachable::Landline)
        );
        assert_eq!(
            CarrierError::of("30005"),
            CarrierError::Unreachable(Unreachable::UnknownNumber)
        );
        assert_eq!(
            CarrierError::of("30003"),
            CarrierError::Unreachable(Unreachable::Handset)
        );
        for code in ["30007", "30034"] {
            assert_eq!(CarrierError::of(code), CarrierError::Campaign);
            assert!(CarrierError::of(code).is_permanent());
        }
        assert!(!CarrierError::of("30001").is_permanent());
    }

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(code_label("30007"), "30007");
        assert_eq!(code_label("3000700000"), "other");
        assert_eq!(code_label("x'); drop"), "other");
        assert_eq!(code_label(""), "other");
    }
}
