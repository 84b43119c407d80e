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

/// What a connect link asks access to: the calendar (the first
/// connection), or mail too (asked for later, when the person asks about
/// mail or a provider answers 403 for a missing scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    Calendar,
    Mail,
}

impl Access {
    /// As carried in a connect link and a tool's arguments.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Calendar => "calendar",
            Access::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        match s {
            "calendar" => Some(Access::Calendar),
            "mail" => Some(Access::Mail),
            _ => None,
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

    /// The extra scopes mail needs, asked for only when the person asks
    /// about mail (incremental consent): reading, and composing (drafts
    /// and sending) — Gmail's `gmail.compose` covers both; Graph needs
    /// `Mail.ReadWrite` for drafts and `Mail.Send` to send.
    pub fn mail_scopes(self) -> &'static [&'static str] {
        match self {
            Provider::Google => &[
                "https://www.googleapis.com/auth/gmail.readonly",
                "https://www.googleapis.com/auth/gmail.compose",
            ],
            Provider::Microsoft => &["Mail.ReadWrite", "Mail.Send"],
            Provider::Notion => &[],
        }
    }

    /// The scopes a connect link for `access` asks for: the default ones,
    /// plus mail's when asked (Google adds them to what was granted, with
    /// `include_granted_scopes`; Microsoft asks consent for the new ones).
    pub fn scopes_for(self, access: Access) -> Vec<String> {
        let extra: &[&str] = match access {
            Access::Calendar => &[],
            Access::Mail => self.mail_scopes(),
        };
        self.default_scopes()
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    }

    /// Whether `granted` (as stored from the token answer) holds every
    /// mail scope. Graph may name a scope with its resource
    /// (`https://graph.microsoft.com/Mail.Send`) and in any case.
    pub fn grants_mail(self, granted: &[&str]) -> bool {
        let short = |s: &str| s.rsplit('/').next().unwrap_or(s).to_ascii_lowercase();
        let have: Vec<String> = granted.iter().map(|s| short(s)).collect();
        let needed = self.mail_scopes();
        !needed.is_empty() && needed.iter().all(|n| have.contains(&short(n)))
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

    /// The text sent once mail access is stored (after a mail link).
    pub fn mail_connected_sms(self, french: bool) -> &'static str {
        match (self, french) {
            (Provider::Microsoft, false) => {
                "Outlook mail connected — try: any mail from the school? (I always ask before sending.)"
            }
            (Provider::Microsoft, true) => {
                "Courriels Outlook connectés — essayez : des mails de l'école ? (Je demande toujours avant d'envoyer.)"
            }
            (_, false) => {
                "Gmail connected — try: any mail from the school? (I always ask before sending.)"
            }
            (_, true) => {
                "Gmail connecté — essayez : des mails de l'école ? (Je demande toujours avant d'envoyer.)"
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
    use super::{Access, Provider};

    #[test]
    fn mail_is_asked_for_on_top_and_recognised_when_granted() {
        let google = Provider::Google.scopes_for(Access::Mail);
        assert!(google.contains(&"https://www.googleapis.com/auth/calendar.events".into()));
        assert!(google.contains(&"https://www.googleapis.com/auth/gmail.compose".into()));
        assert_eq!(
            Provider::Google.scopes_for(Access::Calendar).len(),
            Provider::Google.default_scopes().len()
        );
        assert!(Provider::Microsoft.grants_mail(&[
            "openid",
            "https://graph.microsoft.com/Mail.ReadWrite",
            "mail.send"
        ]));
        assert!(!Provider::Microsoft.grants_mail(&["Mail.ReadWrite"]));
        assert!(!Provider::Google.grants_mail(&[]));
        assert!(!Provider::Notion.grants_mail(&["anything"]));
    }

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
