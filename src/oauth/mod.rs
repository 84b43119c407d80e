//! Per-person OAuth: the token vault, the providers, the connect flow
//! (signed links, PKCE and server-side state) and token refresh.
//!
//! Tokens exist in plaintext only in memory, as [`secrecy::SecretString`];
//! what reaches PostgreSQL is sealed by [`vault::Vault`] and bound to its
//! person, provider and key.

pub mod providers;
pub mod vault;

pub use providers::Provider;
pub use vault::{Purpose, Sealed, Vault, VaultError};
