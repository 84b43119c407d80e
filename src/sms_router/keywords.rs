//! Carrier keywords: one table of the words Nudge honours, with what each
//! does and which language it speaks, and the fixed texts that answer them.
//!
//! A keyword is the whole message, after trimming whitespace and trailing
//! punctuation, compared without case or accents ("Arrêt." is ARRET), with
//! runs of spaces counted as one ("stop  all" is STOP ALL). Keywords are
//! recorded and never reach the agent.
//!
//! The opt-out words are every word Twilio's default opt-out handling
//! blocks a long code on, plus ARRET (Canadian French); the table must
//! never know fewer words than Twilio, or Twilio blocks a person Nudge
//! still believes subscribed. Operators who add words in Twilio's Advanced
//! Opt-Out mirror them with `SMS_EXTRA_OPT_OUT_KEYWORDS` (and
//! `SMS_EXTRA_OPT_IN_KEYWORDS`, `SMS_EXTRA_HELP_KEYWORDS`).

use crate::config::TwilioConfig;
use crate::store::Locale;

/// What a keyword does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing but the confirmation is sent to the number until it opts
    /// back in; reminders stay scheduled.
    OptOut,
    /// The number may receive messages again.
    OptIn,
    /// The help text (service, contact, STOP/START words).
    Help,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::OptOut => "opt_out",
            Action::OptIn => "opt_in",
            Action::Help => "help",
        }
    }
}

/// One row of the keyword table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The normalised form matched (upper case, no accents).
    pub form: &'static str,
    /// The word recorded for it ("STOP ALL" is recorded as STOPALL).
    pub word: &'static str,
    pub action: Action,
    /// `Some` for words of one language (ARRET, AIDE, OUI): the answer is
    /// in that language. `None`: the person's language (English for a
    /// number nobody owns).
    pub language: Option<Locale>,
    /// YES and OUI opt in only from an opted-out number; otherwise they are
    /// ordinary messages (they may confirm a pending action).
    pub only_when_opted_out: bool,
}

const fn entry(form: &'static str, word: &'static str, action: Action) -> Entry {
    Entry {
        form,
        word,
        action,
        language: None,
        only_when_opted_out: false,
    }
}

const fn french(e: Entry) -> Entry {
    Entry {
        language: Some(Locale::Fr),
        ..e
    }
}

const fn when_opted_out(e: Entry) -> Entry {
    Entry {
        only_when_opted_out: true,
        ..e
    }
}

/// Every keyword Nudge knows without configuration.
pub const TABLE: &[Entry] = &[
    // Twilio's default opt-out words on long codes.
    entry("STOP", "STOP", Action::OptOut),
    entry("STOPALL", "STOPALL", Action::OptOut),
    entry("STOP ALL", "STOPALL", Action::OptOut),
    entry("UNSUBSCRIBE", "UNSUBSCRIBE", Action::OptOut),
    entry("END", "END", Action::OptOut),
    entry("QUIT", "QUIT", Action::OptOut),
    entry("REVOKE", "REVOKE", Action::OptOut),
    entry("OPTOUT", "OPTOUT", Action::OptOut),
    entry("CANCEL", "CANCEL", Action::OptOut),
    // Canadian French (ARRÊT folds to ARRET).
    french(entry("ARRET", "ARRET", Action::OptOut)),
    entry("START", "START", Action::OptIn),
    entry("UNSTOP", "UNSTOP", Action::OptIn),
    when_opted_out(entry("YES", "YES", Action::OptIn)),
    french(when_opted_out(entry("OUI", "OUI", Action::OptIn))),
    entry("HELP", "HELP", Action::Help),
    entry("INFO", "INFO", Action::Help),
    french(entry("AIDE", "AIDE", Action::Help)),
];

/// A message recognised as a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub action: Action,
    /// The canonical word, as recorded (e.g. "CANCEL", "STOPALL").
    pub word: String,
    pub language: Option<Locale>,
}

impl Matched {
    /// The language of the answer: the keyword's own, else the person's.
    pub fn answer_in(&self, person: Option<Locale>) -> Locale {
        self.language.or(person).unwrap_or(Locale::En)
    }
}

/// The keyword `body` is, if any, from the built-in table and the
/// operator's extra words. `opted_out` matters for YES/OUI.
pub fn keyword(body: &str, opted_out: bool, twilio: &TwilioConfig) -> Option<Matched> {
    let form = normalise(body);
    if form.is_empty() {
        return None;
    }
    if let Some(e) = TABLE
        .iter()
        .find(|e| e.form == form && (opted_out || !e.only_when_opted_out))
    {
        return Some(Matched {
            action: e.action,
            word: e.word.to_string(),
            language: e.language,
        });
    }
    let extras = [
        (&twilio.extra_opt_out_keywords, Action::OptOut),
        (&twilio.extra_opt_in_keywords, Action::OptIn),
        (&twilio.extra_help_keywords, Action::Help),
    ];
    extras.into_iter().find_map(|(words, action)| {
        words
            .iter()
            .find(|w| normalise(w) == form)
            .map(|_| Matched {
                action,
                word: form.clone(),
                language: None,
            })
    })
}

/// Whether `body` is a keyword in any state (keywords skip the rate limit).
pub fn may_be_keyword(body: &str, twilio: &TwilioConfig) -> bool {
    keyword(body, true, twilio).is_some()
}

/// Upper case, accents folded, surrounding whitespace and trailing
/// punctuation removed, inner whitespace collapsed to one space.
pub fn normalise(body: &str) -> String {
    let trimmed = body.trim_end_matches(|c: char| {
        c.is_whitespace() || c.is_ascii_punctuation() || matches!(c, '…' | '¡' | '¿' | '»' | '«')
    });
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter_map(fold));
    }
    out
}

/// One character upper-cased without its accent; combining marks (the
/// accents of decomposed text) are dropped.
fn fold(c: char) -> Option<char> {
    if ('\u{0300}'..='\u{036F}').contains(&c) {
        return None;
    }
    let upper = c.to_uppercase().next().unwrap_or(c);
    Some(match upper {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'Ç' => 'C',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'Ñ' => 'N',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'Ý' | 'Ÿ' => 'Y',
        other => other,
    })
}

/// The operator-configured parts of the fixed texts.
fn service_name(twilio: &TwilioConfig) -> &str {
    match twilio.service_name.trim() {
        "" => "Nudge",
        name => name,
    }
}

/// The answer to HELP/INFO/AIDE: what the service is, how to reach a
/// person, the STOP and START words, and the rates notice where the
/// operator's region needs it. Only GSM-7 characters, so it stays cheap.
pub fn help_text(locale: Locale, twilio: &TwilioConfig) -> String {
    let name = service_name(twilio);
    let contact = twilio.help_contact.as_deref().map(str::trim);
    match locale {
        Locale::En => {
            let contact = match contact {
                Some(c) if !c.is_empty() => format!("Help: {c}."),
                _ => format!("Help: ask the person who runs your {name}."),
            };
            let rates = if twilio.rates_notice {
                " Msg & data rates may apply."
            } else {
                ""
            };
            format!(
                "{name}: your assistant by text. To cancel one reminder, text \"cancel reminder\" \
                 and its name. {contact} Reply STOP to unsubscribe, START to resume.{rates}"
            )
        }
        Locale::Fr => {
            let contact = match contact {
                Some(c) if !c.is_empty() => format!("Aide : {c}."),
                _ => format!("Aide : la personne qui gère votre {name}."),
            };
            let rates = if twilio.rates_notice {
                " Des frais de messagerie et de données peuvent s'appliquer."
            } else {
                ""
            };
            format!(
                "{name} : votre assistant par texto. Pour annuler un rappel, écrivez \"annule le \
                 rappel\" et son nom. {contact} Répondez ARRET pour vous désabonner, START pour reprendre.{rates}"
            )
        }
    }
}

/// The one confirmation an opt-out gets: how to come back, and (for a
/// person Nudge serves) that the reminders are kept.
pub fn opted_out_text(locale: Locale, known: bool, twilio: &TwilioConfig) -> String {
    let name = service_name(twilio);
    match (locale, known) {
        (Locale::En, true) => format!(
            "{name}: you're unsubscribed and will get no more messages. \
             Reply START to resume - your reminders are kept."
        ),
        (Locale::En, false) => format!(
            "{name}: you're unsubscribed and will get no more messages. Reply START to resume."
        ),
        (Locale::Fr, true) => format!(
            "{name} : vous ne recevrez plus de messages. \
             Répondez START pour reprendre - vos rappels sont gardés."
        ),
        (Locale::Fr, false) => {
            format!("{name} : vous ne recevrez plus de messages. Répondez START pour reprendre.")
        }
    }
}

/// The answer to START/UNSTOP (and YES/OUI while opted out). After an
/// opt-out by "cancel" — most likely meant for one reminder — it says how
/// to cancel one reminder without leaving.
pub fn opted_in_text(locale: Locale, after_cancel: bool, twilio: &TwilioConfig) -> String {
    let name = service_name(twilio);
    let (welcome, note) = match locale {
        Locale::En => (
            format!("{name}: you're subscribed again and your reminders are back on."),
            " Note: \"cancel\" alone unsubscribes you from everything. To cancel one reminder, \
             text \"cancel reminder\" and its name, e.g. \"cancel reminder dentist\".",
        ),
        Locale::Fr => (
            format!("{name} : c'est reparti, vos rappels reprennent."),
            " Note : \"cancel\" seul vous désabonne de tout. Pour annuler un rappel, écrivez \
             \"annule le rappel\" et son nom, p. ex. \"annule le rappel dentiste\".",
        ),
    };
    if after_cancel {
        format!("{welcome}{note}")
    } else {
        welcome
    }
}

/// Added to the START answer when it cancelled a pending account deletion.
pub fn deletion_cancelled_note(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Your account deletion is cancelled; your account stays.",
        Locale::Fr => "La suppression de votre compte est annulée ; votre compte reste.",
    }
}

pub const ONBOARDING_TEXT: &str = "Hi! This number serves people registered with Nudge. \
To ask for access, contact the person who runs your Nudge. Reply STOP to opt out.";

pub const SLOW_DOWN_TEXT: &str = "You're sending messages faster than I can answer. \
I've kept them and will answer each one in a minute.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms_router::segments::{Encoding, analyse};

    fn config() -> TwilioConfig {
        TwilioConfig {
            rates_notice: true,
            ..TwilioConfig::default()
        }
    }

    #[test]
    fn every_table_form_matches_in_every_spelling() {
        let c = config();
        for e in TABLE {
            let lower = e.form.to_lowercase();
            let title: String = lower
                .chars()
                .enumerate()
                .map(|(i, ch)| if i == 0 { ch.to_ascii_uppercase() } else { ch })
                .collect();
            for form in [
                e.form.to_string(),
                lower.clone(),
                title,
                format!("  {lower}  "),
                format!("{lower}."),
                format!("{}!", e.form),
                format!("{lower}?!"),
                format!("{lower}..."),
                format!("{lower}…"),
            ] {
                let m = keyword(&form, true, &c).unwrap_or_else(|| panic!("{form:?}"));
                assert_eq!((m.action, m.word.as_str()), (e.action, e.word), "{form:?}");
            }
        }
    }

    #[test]
    fn accents_and_two_word_forms_fold() {
        let c = config();
        for form in ["ARRÊT", "arrêt", "Arrêt.", "arre\u{0302}t", "ARRET!"] {
            let m = keyword(form, false, &c).unwrap();
            assert_eq!(m.action, Action::OptOut, "{form}");
            assert_eq!(m.language, Some(Locale::Fr));
        }
        for form in ["stop all", "STOP ALL", "Stop  all!", "stop\tall"] {
            assert_eq!(keyword(form, false, &c).unwrap().word, "STOPALL", "{form}");
        }
        assert_eq!(keyword("Aide", false, &c).unwrap().action, Action::Help);
    }

    #[test]
    fn ordinary_messages_are_not_keywords() {
        let c = config();
        for text in [
            "stop the reminder",
            "please cancel",
            "cancel reminder dentist",
            "help me plan my day",
            "",
            "   ",
            "!!!",
            "?stop",
            "stopp",
        ] {
            assert_eq!(keyword(text, false, &c), None, "{text:?}");
        }
        // YES/OUI confirm pending actions unless the number is opted out.
        assert_eq!(keyword("yes", false, &c), None);
        assert_eq!(keyword("Oui!", false, &c), None);
        assert_eq!(keyword("yes", true, &c).unwrap().action, Action::OptIn);
        assert_eq!(keyword("oui", true, &c).unwrap().language, Some(Locale::Fr));
    }

    #[test]
    fn operator_extra_words_are_honoured() {
        let c = TwilioConfig {
            extra_opt_out_keywords: vec!["Désinscrire".into(), "opt out".into()],
            extra_help_keywords: vec!["support".into()],
            ..config()
        };
        assert_eq!(
            keyword("desinscrire.", false, &c).unwrap().action,
            Action::OptOut
        );
        assert_eq!(keyword("OPT OUT", false, &c).unwrap().word, "OPT OUT");
        assert_eq!(keyword("Support?", false, &c).unwrap().action, Action::Help);
        assert_eq!(keyword("desinscrire", false, &config()), None);
    }

    #[test]
    fn fixed_texts_are_gsm7_and_short() {
        let c = TwilioConfig {
            help_contact: Some("help@nudge.example or +1 514 555 0199".into()),
            ..config()
        };
        for locale in [Locale::En, Locale::Fr] {
            for text in [
                help_text(locale, &c),
                opted_out_text(locale, true, &c),
                opted_out_text(locale, false, &c),
                opted_in_text(locale, true, &c),
                opted_in_text(locale, false, &c),
            ] {
                let info = analyse(&text);
                assert_eq!(info.encoding, Encoding::Gsm7, "{text}");
                assert!(info.segments <= 2, "{} segments: {text}", info.segments);
            }
        }
        let help = help_text(Locale::En, &c);
        for part in [
            "Nudge",
            "help@nudge.example",
            "STOP",
            "START",
            "Msg & data rates",
        ] {
            assert!(help.contains(part), "{help}");
        }
        let aide = help_text(Locale::Fr, &c);
        for part in ["ARRET", "START", "frais"] {
            assert!(aide.contains(part), "{aide}");
        }
        let quiet = TwilioConfig {
            rates_notice: false,
            ..config()
        };
        assert!(!help_text(Locale::En, &quiet).contains("rates"));
    }
}
