//! The providers a person can connect, as data: names, scopes and which
//! endpoint settings of [`OAuthConfig`] each one uses.

use std::fmt;
use std::str::FromStr;

use crate::config::{OAuthConfig, ProviderApp};

/// A provider a person can connect. Its `as_str` is what the database and
/// the URLs (`/oauth/<provider>/callback`) use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Google,
    Microsoft,
    Notion,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Google, Provider::Microsoft, Provider::Notion];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::Notion => "notion",
        }
    }

    /// The name people read ("Google Calendar connected").
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Google => "Google Calendar",
            Provider::Microsoft => "Outlook",
            Provider::Notion => "Notion",
        }
    }

    /// This provider's registration and endpoints.
    pub fn app(self, config: &OAuthConfig) -> &ProviderApp {
        match self {
            Provider::Google => &config.google,
            Provider::Microsoft => &config.microsoft,
            Provider::Notion => &config.notion,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown provider (expected google, microsoft or notion)")]
pub struct UnknownProvider;

impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "google" | "gmail" | "google calendar" => Ok(Provider::Google),
            "microsoft" | "outlook" | "office" | "office 365" => Ok(Provider::Microsoft),
            "notion" => Ok(Provider::Notion),
            _ => Err(UnknownProvider),
        }
    }
}
