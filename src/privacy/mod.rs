//! What a person can do about their own data, and what an erase must reach
//! beyond PostgreSQL:
//!
//! - [`export`]: one-time export links (`PUBLIC_BASE_URL/export/<token>`),
//!   signed like connect links (`oauth::links`, purpose `export`), that
//!   download the same document as `nudge admin user export`.
//! - [`erase`]: before a person's rows go, their OAuth tokens are revoked
//!   at the providers and their Redis keys deleted; the rows themselves go
//!   in one SQL function (`store::person_data::erase`, or the deletion job
//!   through `store::cross_user::erase_due_deletion`).
//! - [`deletion`]: the deletion a person asked for by text, run by the
//!   `erase_account` job once its grace period is over.

pub mod deletion;
pub mod erase;
pub mod export;

pub use deletion::{DeletionOutcome, run_due_deletion};
pub use erase::{Forgetter, Forgotten, Outside};
pub use export::{ExportError, ExportLinks};
