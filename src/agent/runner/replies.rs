//! The replies a turn makes without the model: the "yes"/"no" to a pending
//! action, a "done"/"snooze" after a reminder, a "done"/"10 more"/"stuck"
//! after a focus check-in, input it cannot read, and
//! the apologies when the budget or every provider ran out.

use chrono::{DateTime, Utc};

use super::journal::Journal;
use super::turn::{Turn, TurnEnd};
use super::{Agent, AgentError, is_no, is_yes};
use crate::agent::focus_replies::{self, FocusReply};
use crate::agent::planner::TurnFacts;
use crate::agent::reminder_replies;
use crate::agent::reminder_replies::ReminderReply;
use crate::agent::tools::Wording;
use crate::agent::tools::limits::{MAX_MESSAGE_CHARS, message_too_long};
use crate::db::UserTx;
use crate::store::{
    FocusSession, FocusStatus, InboundContent, NewReminder, PendingAction, Reminder, User,
};

impl Agent {
    /// A turn the model is not asked for: the answer to a pending action's
    /// question (run it once on "yes" or its short code; anything else
    /// cancels it), or a "done"/"snooze" right after a reminder.
    pub(super) async fn answer_without_model(
        &self,
        tx: &mut UserTx,
        facts: &TurnFacts,
        journal: &Journal,
        text: &str,
        now: DateTime<Utc>,
        say: Wording,
    ) -> Result<Option<Turn>, AgentError> {
        let user = &facts.user;
        // A retried turn that already asked its question must not take
        // that question for an earlier one and cancel it.
        let pending = match facts.has_pending_action && !journal.asked() {
            true => PendingAction::awaiting(tx, now).await?,
            false => None,
        };
        if let Some(pending) = pending {
            let archive = pending.tool_name == "archive_task" && is_archive(text);
            if is_yes(text) || archive || text.trim().eq_ignore_ascii_case(&pending.short_code) {
                PendingAction::resolve(tx, pending.id, true).await?;
                if self.calls_providers(&pending) {
                    // Runs once the "yes" is committed (see `remote`).
                    let mut turn = Turn::short(String::new(), TurnEnd::Confirmed);
                    turn.run_after_commit = Some(pending);
                    return Ok(Some(turn));
                }
                let reply = self
                    .run_confirmed(tx, user, &pending, &facts.connected, now, say)
                    .await?;
                return Ok(Some(Turn::short(reply, TurnEnd::Confirmed)));
            }
            PendingAction::resolve(tx, pending.id, false).await?;
            if pending.tool_name == "archive_task" && is_keep(text) {
                // "Still want 'X'? ARCHIVE / KEEP": it stays, and is not
                // offered again for another 14 quiet days.
                let reply = say.pick("OK, keeping it.", "D'accord, je la garde.");
                return Ok(Some(Turn::short(reply, TurnEnd::Declined)));
            }
            if is_no(text) {
                let reply = say.pick(
                    "OK, cancelled. Nothing was changed.",
                    "D'accord, annulé. Rien n'a changé.",
                );
                return Ok(Some(Turn::short(reply, TurnEnd::Declined)));
            }
        }
        let focus = match focus_replies::parse(text) {
            Some(reply) => FocusSession::awaiting_answer(tx, now - focus_replies::REPLY_WINDOW)
                .await?
                .map(|s| (reply, s)),
            None => None,
        };
        let reminder = match reminder_replies::parse(text) {
            Some(reply) => Reminder::delivered_since(tx, now - reminder_replies::REPLY_WINDOW)
                .await?
                .map(|r| (reply, r)),
            None => None,
        };
        // "done" after both a reminder and a check-in: the later one.
        match (focus, reminder) {
            (Some((reply, session)), r)
                if r.as_ref()
                    .is_none_or(|(_, r)| r.last_sent_at <= session.checked_in_at) =>
            {
                let answer = act_on_focus(tx, &session, reply, now, user, say).await?;
                let mut turn = Turn::short(answer, TurnEnd::FocusReply);
                if reply == FocusReply::Stuck {
                    turn.stuck_on = Some(session);
                }
                Ok(Some(turn))
            }
            (_, Some((reply, reminder))) => {
                let answer = act_on_reminder(tx, &reminder, reply, now, user, say).await?;
                Ok(Some(Turn::short(answer, TurnEnd::ReminderReply)))
            }
            _ => Ok(None),
        }
    }
}

/// "KEEP" to "still want it? ARCHIVE / KEEP", in either language.
fn is_keep(text: &str) -> bool {
    matches!(
        folded(text).as_str(),
        "keep" | "keep it" | "garder" | "garde" | "je garde" | "garde-la" | "garde la"
    )
}

/// "ARCHIVE" to the same question, in either language.
fn is_archive(text: &str) -> bool {
    matches!(
        folded(text).as_str(),
        "archive" | "archive it" | "archiver" | "archive-la" | "archive la"
    )
}

fn folded(text: &str) -> String {
    text.trim().trim_end_matches(['.', '!']).to_lowercase()
}

/// The answer to a message the agent cannot take as it is: pictures with
/// no text (no capabilities menu: the person did say something), or more
/// text than one message can hold. `None` for everything else.
pub(super) fn refuse_input(
    text: &str,
    stored: Option<&InboundContent>,
    say: Wording,
) -> Option<String> {
    let body = stored.map_or(text, |c| c.body.as_str());
    if body.trim().is_empty() && stored.is_some_and(|c| c.media > 0) {
        return Some(say.pick(
            "I can only read text for now — could you type it out?",
            "Je ne sais lire que du texte pour l'instant — peux-tu l'écrire ?",
        ));
    }
    (body.chars().count() > MAX_MESSAGE_CHARS).then(|| message_too_long(say))
}

/// Marks the reminder done or snoozes it, and says so in a few words.
pub(super) async fn act_on_reminder(
    tx: &mut UserTx,
    reminder: &Reminder,
    reply: ReminderReply,
    now: DateTime<Utc>,
    user: &User,
    say: Wording,
) -> Result<String, AgentError> {
    match reply {
        ReminderReply::Done => {
            Reminder::mark_done(tx, reminder.id).await?;
            Ok(say.pick(
                &format!("Nice, done: {}.", reminder.body),
                &format!("Bravo, c'est fait : {}.", reminder.body),
            ))
        }
        ReminderReply::Snooze { minutes } => {
            let until = now + chrono::Duration::minutes(minutes);
            if reminder.recurrence.is_some() {
                // The series keeps its rhythm; the snooze is a one-off copy.
                Reminder::create(
                    tx,
                    NewReminder {
                        body: reminder.body.clone(),
                        due_at: until,
                        timezone: reminder.timezone.clone(),
                        local_time: None,
                        recurrence: None,
                        explicit_time: true,
                    },
                )
                .await?;
            } else {
                Reminder::reschedule(tx, reminder.id, until).await?;
            }
            let at = say.time(until.with_timezone(&user.tz()));
            Ok(say.pick(
                &format!("OK, I'll remind you again at {at}: {}.", reminder.body),
                &format!("D'accord, je te le rappelle à {at} : {}.", reminder.body),
            ))
        }
    }
}

/// Ends or extends the focus session, and says so in a few words. STUCK
/// gets one concrete next step: the first step the person named, or a
/// two-minute start (a model, when there is one, is asked after the
/// commit: see `stuck`).
pub(super) async fn act_on_focus(
    tx: &mut UserTx,
    session: &FocusSession,
    reply: FocusReply,
    now: DateTime<Utc>,
    user: &User,
    say: Wording,
) -> Result<String, AgentError> {
    let task = &session.task;
    match reply {
        FocusReply::Done => {
            FocusSession::finish(tx, session.id, FocusStatus::Done, now).await?;
            // Rounded, as "how long" reports it.
            let took = ((now - session.started_at).num_seconds() + 30)
                .div_euclid(60)
                .max(1);
            Ok(say.pick(
                &format!("Nice work: {task}, {took} min. Noted for next time."),
                &format!("Bravo : {task}, {took} min. Noté pour la prochaine fois."),
            ))
        }
        FocusReply::More { minutes } => {
            let until = FocusSession::extend(tx, session.id, minutes, now).await?;
            let at = say.time(until.with_timezone(&user.tz()));
            Ok(say.pick(
                &format!("OK, {minutes} more min on {task}. I'll check in at {at}."),
                &format!("D'accord, {minutes} min de plus sur {task}. Je te fais signe à {at}."),
            ))
        }
        FocusReply::Stuck => {
            FocusSession::finish(tx, session.id, FocusStatus::Stuck, now).await?;
            Ok(match &session.first_step {
                Some(step) => say.pick(
                    &format!("Stuck is normal. One small step: {step}. Then text \"starting 10 min on {task}\"."),
                    &format!("Bloquer, c'est normal. Un petit pas : {step}. Puis écris « je commence 10 min sur {task} »."),
                ),
                None => say.pick(
                    &format!("Stuck is normal. One small step: open {task} and write one rough line, 2 minutes only. Then text \"starting 10 min on {task}\"."),
                    &format!("Bloquer, c'est normal. Un petit pas : ouvre {task} et écris une ligne, même brouillon, 2 minutes seulement. Puis écris « je commence 10 min sur {task} »."),
                ),
            })
        }
    }
}

pub(super) fn budget_reply(done: &[String], say: Wording) -> String {
    if done.is_empty() {
        say.pick(
            "Sorry, that took me too long. Your message is saved; could you say it more simply?",
            "Désolé, ça m'a pris trop de temps. Ton message est enregistré ; peux-tu le dire plus simplement ?",
        )
    } else {
        done.join(" ")
    }
}

pub(super) fn providers_failed_reply(done: &[String], say: Wording) -> String {
    let sorry = say.pick(
        "Sorry, I can't think right now. Your message is saved; please try again in a few minutes.",
        "Désolé, je n'arrive pas à réfléchir pour l'instant. Ton message est enregistré ; réessaie dans quelques minutes.",
    );
    if done.is_empty() {
        sorry
    } else {
        format!("{} {sorry}", done.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &str, media: usize) -> InboundContent {
        InboundContent {
            body: body.into(),
            media,
        }
    }

    #[test]
    fn archive_and_keep_in_either_language() {
        for yes in ["ARCHIVE", "archive it", "Archiver", "archive-la!"] {
            assert!(is_archive(yes) && !is_keep(yes), "{yes}");
        }
        for keep in ["KEEP", "keep it.", "garder", "Je garde"] {
            assert!(is_keep(keep) && !is_archive(keep), "{keep}");
        }
        assert!(!is_archive("archive the report") && !is_keep("keeping busy"));
    }

    #[test]
    fn pictures_without_text_and_overlong_text_are_answered_without_the_model() {
        let en = Wording { french: false };
        let fr = Wording { french: true };
        let note = "\n[The person also sent an image.]";
        assert!(
            refuse_input(note, Some(&stored(" ", 1)), en)
                .unwrap()
                .starts_with("I can only read text for now")
        );
        assert!(
            refuse_input(note, Some(&stored("", 2)), fr)
                .unwrap()
                .starts_with("Je ne sais lire que du texte")
        );
        assert_eq!(
            refuse_input("hi", Some(&stored("look at this", 1)), en),
            None
        );
        assert_eq!(refuse_input("", None, en), None);
        assert_eq!(refuse_input(&"a".repeat(1600), None, en), None);
        assert!(refuse_input(&"a".repeat(1601), None, en).is_some());
        // The stored body counts, not the note the worker adds.
        let long = "a".repeat(1590);
        assert_eq!(
            refuse_input(&format!("{long}{note}"), Some(&stored(&long, 1)), en),
            None
        );
    }
}
