//! What the person reads when Gemini will not or cannot answer: a kind
//! refusal for a blocked request, an apology for an answer cut twice.

use super::PROVIDER;
use crate::agent::llm::Message;
use crate::store::Locale;

/// The short, kind answer to a request Gemini blocked. The reason is
/// logged, never the person's words.
pub(super) fn refusal(reason: &str, locale: Locale) -> Message {
    tracing::warn!(
        provider = PROVIDER,
        reason,
        "answer blocked by the model's safety filters"
    );
    metrics::counter!("llm_blocked_answers_total", "provider" => PROVIDER).increment(1);
    Message::model_text(match locale {
        Locale::Fr => {
            "Désolé, je ne peux pas t'aider avec ça. Je reste là pour tes rappels, tes listes et le reste."
        }
        _ => {
            "Sorry, I can't help with that one. I'm still here for your reminders, lists and the rest."
        }
    })
}

/// What is said when even the tighter retry was cut off: nothing was done.
pub(super) fn cut_off(locale: Locale) -> Message {
    Message::model_text(match locale {
        Locale::Fr => {
            "Désolé, ma réponse était trop longue et a été coupée ; je n'ai rien fait. Peux-tu le redemander en plus court ?"
        }
        _ => {
            "Sorry, my answer ran too long and was cut off, so I did nothing. Could you ask again in fewer words?"
        }
    })
}
