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

/// Also the names people text ("gmail", "agenda google", "office 365",
/// "hotmail"): the tools take what a model or the offline planner heard.
/// Only the exact `as_str` names are accepted where the name is part of a
/// URL (the callback compares it, the mix-up defence).
impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Case, spacing, hyphens and the French "é" do not matter.
        let words: Vec<String> = s
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase().replace('é', "e"))
            .collect();
        match words.join(" ").as_str() {
            "google" | "gmail" | "google calendar" | "google agenda" | "agenda google" | "gcal"
            | "google cal" | "gmail calendar" | "calendrier google" | "google calendrier" => {
                Ok(Provider::Google)
            }
            "microsoft" | "outlook" | "office" | "office 365" | "office365" | "o365"
            | "microsoft 365" | "microsoft outlook" | "outlook calendar" | "agenda outlook"
            | "outlook agenda" | "calendrier outlook" | "hotmail" => Ok(Provider::Microsoft),
            "notion" | "notion.so" => Ok(Provider::Notion),
            _ => Err(UnknownProvider),
        }
    }
}

impl Provider {
    /// The scopes asked for at first connection: the narrowest that serves
    /// the calendar (Google, Microsoft) or the pages shared (Notion, which
    /// has no scopes: the person picks pages on Notion's own screen).
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Provider::Google => &[
                "openid",
                "email",
                "https://www.googleapis.com/auth/calendar.events",
            ],
            Provider::Microsoft => &[
                "openid",
                "offline_access",
                "User.Read",
                "Calendars.ReadWrite",
            ],
            Provider::Notion => &[],
        }
    }

    /// Provider-specific authorization parameters: Google gives a refresh
    /// token only with `access_type=offline` (and again on reconnect only
    /// with `prompt=consent`); Notion asks for the person's own pages.
    pub fn authorize_extras(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Google => &[
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("include_granted_scopes", "true"),
            ],
            Provider::Microsoft => &[("response_mode", "query")],
            Provider::Notion => &[("owner", "user")],
        }
    }

    /// What the consent page says will be shared, in English and French.
    pub fn shared_summary(self, french: bool) -> &'static str {
        match (self, french) {
            (Provider::Google, false) => {
                "your Google Calendar events, so Nudge can tell you what's coming and add what you ask for"
            }
            (Provider::Google, true) => {
                "les événements de votre agenda Google, pour que Nudge vous dise ce qui arrive et ajoute ce que vous demandez"
            }
            (Provider::Microsoft, false) => {
                "your Outlook calendar, so Nudge can tell you what's coming and add what you ask for"
            }
            (Provider::Microsoft, true) => {
                "votre agenda Outlook, pour que Nudge vous dise ce qui arrive et ajoute ce que vous demandez"
            }
            (Provider::Notion, false) => {
                "the Notion pages you pick on the next screen, so Nudge can read and add to them"
            }
            (Provider::Notion, true) => {
                "les pages Notion que vous choisirez à l'écran suivant, pour que Nudge les lise et les complète"
            }
        }
    }

    /// The text sent once the connection is stored.
    pub fn connected_sms(self, french: bool) -> &'static str {
        match (self, french) {
            (Provider::Google, false) => "Google Calendar connected — try: what's on tomorrow?",
            (Provider::Google, true) => {
                "Agenda Google connecté — essayez : qu'est-ce que j'ai demain ?"
            }
            (Provider::Microsoft, false) => "Outlook connected — try: what's on tomorrow?",
            (Provider::Microsoft, true) => {
                "Outlook connecté — essayez : qu'est-ce que j'ai demain ?"
            }
            (Provider::Notion, false) => {
                "Notion connected — try: add \"call the bank\" to my Notion"
            }
            (Provider::Notion, true) => {
                "Notion connecté — essayez : ajoute « appeler la banque » à mon Notion"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Provider;

    #[test]
    fn the_names_people_text_name_a_provider() {
        for (said, want) in [
            ("Google", Provider::Google),
            ("gmail", Provider::Google),
            ("Google Calendar", Provider::Google),
            ("agenda Google", Provider::Google),
            ("calendrier  google", Provider::Google),
            ("Outlook", Provider::Microsoft),
            ("office-365", Provider::Microsoft),
            ("Office365", Provider::Microsoft),
            ("Microsoft 365", Provider::Microsoft),
            ("hotmail", Provider::Microsoft),
            ("NOTION", Provider::Notion),
        ] {
            assert_eq!(said.parse::<Provider>().ok(), Some(want), "{said}");
        }
        for said in ["", "calendar", "google drive", "yahoo", "dropbox"] {
            assert!(said.parse::<Provider>().is_err(), "{said}");
        }
    }
}
