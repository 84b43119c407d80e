//! The few server-rendered pages of the connect flow: small, mobile-first,
//! English or French, no JavaScript. Every text is escaped by maud.

use maud::{DOCTYPE, Markup, html};

use crate::oauth::{Access, FlowError, Provider};

/// The page language: the person's when known, else the browser's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        match header {
            Some(h) if h.trim_start().to_ascii_lowercase().starts_with("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    pub(super) fn fr(self) -> bool {
        self == Lang::Fr
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}\
button{font-size:1.1rem;padding:.8rem 1.4rem;border:0;border-radius:.5rem;\
background:#2457d6;color:#fff;width:100%}p.small{color:#666;font-size:.9rem}";

pub(super) fn layout(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if lang.fr() { "fr" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (STYLE) }
            }
            body { (body) }
        }
    }
}

/// "Connect Google Calendar?" with one button that posts back to the link.
pub fn consent(lang: Lang, provider: Provider, access: Access, action: &str) -> Markup {
    let name = provider.display_name();
    let fr = lang.fr();
    let title = if fr {
        format!("Connecter {name} ?")
    } else {
        format!("Connect {name}?")
    };
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p {
                @if fr { "Nudge aura accès à " } @else { "Nudge will get access to " }
                (provider.shared_summary(fr)) "."
            }
            @if access == Access::Mail {
                p {
                    @if fr {
                        "Et à vos courriels : les lire, préparer des brouillons et envoyer ceux que vous confirmez par SMS (Nudge demande toujours avant d'envoyer)."
                    } @else {
                        "And to your mail: read it, prepare drafts, and send what you confirm by text (Nudge always asks before sending)."
                    }
                }
            }
            p.small {
                @if fr {
                    "Vous pourrez déconnecter à tout moment en écrivant « déconnecte " (name) " »."
                } @else {
                    "You can disconnect any time by texting \"disconnect " (name) "\"."
                }
            }
            form method="post" action=(action) {
                button type="submit" {
                    @if fr { "Continuer vers " (name) } @else { "Continue to " (name) }
                }
            }
        },
    )
}

/// Shown after the tokens are stored.
pub fn connected(lang: Lang, provider: Provider) -> Markup {
    let name = provider.display_name();
    let title = if lang.fr() {
        format!("{name} est connecté")
    } else {
        format!("{name} is connected")
    };
    layout(
        lang,
        &title,
        html! {
            h1 { (title) }
            p {
                @if lang.fr() {
                    "C'est fait. Vous allez recevoir un texto de confirmation ; vous pouvez fermer cette page."
                } @else {
                    "All set. A confirmation text is on its way; you can close this page."
                }
            }
        },
    )
}

/// A refusal, in plain words, with what to do next.
pub fn failure(lang: Lang, error: &FlowError) -> Markup {
    let fr = lang.fr();
    let (title, what) = match (error, fr) {
        (FlowError::LinkExpired, false) => (
            "This link has expired",
            "Links work for 15 minutes. Text \"connect\" and the service name for a new one.",
        ),
        (FlowError::LinkExpired, true) => (
            "Ce lien a expiré",
            "Les liens sont valables 15 minutes. Écrivez « connecte » et le nom du service pour en recevoir un nouveau.",
        ),
        (FlowError::LinkUsed, false) => (
            "This link was already used",
            "Each link works once. Text \"connect\" and the service name for a new one.",
        ),
        (FlowError::LinkUsed, true) => (
            "Ce lien a déjà servi",
            "Chaque lien ne sert qu'une fois. Écrivez « connecte » et le nom du service pour en recevoir un nouveau.",
        ),
        (FlowError::LinkInvalid, false) => (
            "This link is not valid",
            "Please use the link exactly as we texted it, or text \"connect\" and the service name for a new one.",
        ),
        (FlowError::LinkInvalid, true) => (
            "Ce lien n'est pas valide",
            "Utilisez le lien tel que nous l'avons envoyé, ou écrivez « connecte » et le nom du service pour en recevoir un nouveau.",
        ),
        (FlowError::StateInvalid | FlowError::IssuerMismatch, false) => (
            "This sign-in could not be finished",
            "It expired, was already used, or was started in another browser. Nothing was connected. Text \"connect\" and the service name to start again.",
        ),
        (FlowError::StateInvalid | FlowError::IssuerMismatch, true) => (
            "Cette connexion n'a pas pu aboutir",
            "Elle a expiré, a déjà servi ou a été commencée dans un autre navigateur. Rien n'a été connecté. Écrivez « connecte » et le nom du service pour recommencer.",
        ),
        (FlowError::Denied, false) => (
            "Nothing was connected",
            "You chose not to share access. That's fine: nothing was stored.",
        ),
        (FlowError::Denied, true) => (
            "Rien n'a été connecté",
            "Vous avez choisi de ne pas partager l'accès. Aucun souci : rien n'a été enregistré.",
        ),
        (FlowError::UnknownProvider | FlowError::NotConfigured(_), false) => {
            ("Not available", "This service cannot be connected here.")
        }
        (FlowError::UnknownProvider | FlowError::NotConfigured(_), true) => (
            "Non disponible",
            "Ce service ne peut pas être connecté ici.",
        ),
        (FlowError::Exchange(_), false) => (
            "The provider did not confirm",
            "Nothing was connected. Please text \"connect\" and the service name to try again in a moment.",
        ),
        (FlowError::Exchange(_), true) => (
            "Le service n'a pas confirmé",
            "Rien n'a été connecté. Écrivez « connecte » et le nom du service pour réessayer dans un instant.",
        ),
        (FlowError::Internal(_), false) => (
            "Something went wrong on our side",
            "Nothing was connected. Please try again in a moment.",
        ),
        (FlowError::Internal(_), true) => (
            "Un problème est survenu de notre côté",
            "Rien n'a été connecté. Réessayez dans un instant.",
        ),
    };
    layout(
        lang,
        title,
        html! {
            h1 { (title) }
            p { (what) }
        },
    )
}
