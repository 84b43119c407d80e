//! SMS: the Twilio webhook (signature, identification, keywords), the
//! durable hand-off to workers, outbound delivery (senders, segments,
//! pacing and limits) and status callbacks.

pub mod carrier_errors;
pub mod console_sender;
mod inbound_limits;
pub mod keywords;
pub mod outbound;
pub mod pacing;
pub mod rate_limit;
pub mod segments;
pub mod sender;
pub mod signature;
pub mod status_callback;
pub mod twilio_sender;
pub mod webhook;
