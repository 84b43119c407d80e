//! Tasks and goals: add, complete, progress, list; and a to-do said as a need ("i
//! need to call the dentist").

use serde_json::json;

use super::{first_group, said};
use crate::agent::llm::offline::lookup::{Lookup, Then};
use crate::agent::llm::offline::resolve;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn tasks(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if let Some(plan) = roll(inp, ctx) {
        return Some(plan);
    }
    let list = rx!(
        r"^(?:(?:show|list|see|view|read|get)(?:\s+me)?\s+)?(?:all\s+)?(?:my|the|our)?\s*(?:open\s+)?(?:tasks|todos|to-dos|todo|to-do|(?:todo|to-do|to\s+do|task)\s+list)$"
    )
    .is_match(n)
        || rx!(
            r"^(?:what(?:'s|s|\s+is)\s+on\s+(?:my|the)\s+(?:todo|to-do|to\s+do|task)(?:\s+list)?|what\s+are\s+my\s+tasks|what\s+do\s+i\s+(?:still\s+)?(?:have\s+|need\s+)?(?:left\s+)?to\s+do|what(?:'s|s|\s+is)\s+left(?:\s+to\s+do)?|anything\s+(?:left\s+)?(?:on\s+my\s+(?:to-do|list)|to\s+do))$"
        )
        .is_match(n)
        || rx!(
            r"^(?:(?:montre|affiche|liste|voir|lis|donne|quelles\s+sont)(?:-moi)?\s+)?(?:toutes\s+)?(?:mes|les)?\s*taches(?:\s+a\s+faire)?$"
        )
        .is_match(n)
        || rx!(r"^(?:(?:ma|la)\s+(?:liste\s+de\s+taches|to-?do(?:\s+list)?)|qu'est-ce\s+que\s+j'ai\s+a\s+faire|j'ai\s+quoi\s+a\s+faire|(?:c'est\s+)?quoi\s+mes\s+taches|il\s+me\s+reste\s+quoi(?:\s+a\s+faire)?)$")
            .is_match(n);
    if list {
        return Some(Plan::call("list_tasks", json!({})));
    }

    let done = [
        rx!(r"^mark\s+(?:the\s+task\s+)?(.+?)\s+as\s+(?:done|complete|completed|finished)$"),
        rx!(
            r"^(?:(?:i'm\s+|im\s+)?done\s+with|done\s*:|(?:i\s+|i've\s+)?(?:just\s+|finally\s+)?(?:finished|completed?|did|done)|finish)(?:\s+(?:the\s+)?task)?\s*:?\s+(.+)$"
        ),
        rx!(
            r"^(.+?)\s+(?:is|are)\s+(?:done|finished|complete|completed|sorted|taken\s+care\s+of)$"
        ),
        rx!(r"^(?:marque|coche)\s+(?:la\s+tache\s+)?(.+?)\s+comme\s+(?:faite?|terminee?|finie?)$"),
        rx!(
            r"^(?:j'ai\s+(?:enfin\s+|deja\s+)?(?:fini|termine|complete|fait)|(?:tache\s+)?(?:fini|finie|termine|terminee|faite?)\s*:?|c'est\s+fait\s+pour|c'est\s+bon\s+pour)(?:\s+la\s+tache)?\s*:?\s*(?:de\s+|d')?(.+)$"
        ),
        rx!(
            r"^(.+?)\s*(?::|-)?\s+(?:c'est\s+)?(?:fait|faite|fini|finie|termine|terminee|regle|reglee)$"
        ),
    ];
    for re in done {
        if let Some(c) = re.captures(n) {
            let words = resolve::key_words(first_group(inp, &c)?.orig());
            if !words.is_empty() {
                return Some(Plan::Lookup(Lookup::new(
                    Then::Complete { guessed: false },
                    words,
                )));
            }
        }
    }

    let add = [
        rx!(
            r"^(?:put|add|write|stick)\s+(?:on|to|in|onto)\s+(?:(?:my|the)\s+)?(?:tasks|(?:to-do|to\s+do|task)(?:\s+list)?)\s*:?\s*(.+)$"
        ),
        rx!(
            r"^(?:put|add|write|stick)\s+(.+?)\s+(?:on|to|in|onto)\s+(?:my|the)\s+(?:tasks|(?:to-do|to\s+do|task)(?:\s+list)?)$"
        ),
        rx!(
            r"^(?:mets|met|ajoute|rajoute|note)\s+(?:dans|sur|a)\s+(?:ma|la|mes)\s+(?:to-do(?:\s+list)?|liste\s+de\s+taches|taches|liste\s+a\s+faire)\s*:?\s*(.+)$"
        ),
        rx!(
            r"^(?:ajoute|mets|rajoute)\s+(.+?)\s+(?:a|dans|sur)\s+(?:ma|la)\s+(?:liste\s+de\s+taches|to-do(?:\s+list)?)$"
        ),
        rx!(
            r"^(?:add\s+(?:a\s+)?(?:new\s+)?task|new\s+task|create\s+(?:a\s+)?task|task|todo|to-do|to\s+do)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(r"^add\s+(.+?)\s+to\s+(?:my|the)\s+(?:tasks|(?:todo|to-do|to\s+do|task)(?:\s+list)?)$"),
        rx!(
            r"^(?:(?:ajoute|ajouter|rajoute|cree|creer)\s+(?:une\s+|la\s+)?(?:nouvelle\s+)?tache|nouvelle\s+tache|tache|a\s+faire)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(
            r"^(?:ajoute|mets|rajoute)\s+(.+?)\s+(?:a|dans|sur)\s+(?:mes\s+taches|ma\s+liste\s+de\s+taches|ma\s+to-?do(?:\s+list)?)$"
        ),
    ];
    for re in add {
        if let Some(c) = re.captures(n) {
            let title = said(&first_group(inp, &c)?);
            if !title.is_empty() {
                return Some(Plan::call("add_task", json!({ "title": title })));
            }
        }
    }
    None
}

/// "archive renew passport", "move the task renew passport to tomorrow",
/// "archive la tâche passeport", "déplace la tâche passeport à demain".
fn roll(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if let Some(c) =
        rx!(r"^(?:archive|archiver)\s+(?:the\s+task\s+|la\s+tache\s+|task\s+|tache\s+)?(.+)$")
            .captures(n)
    {
        let query = said(&first_group(inp, &c)?);
        return (!query.is_empty()).then(|| Plan::call("archive_task", json!({ "query": query })));
    }
    let c = rx!(r"^(?:move|push)\s+(?:the\s+)?task\s+(.+?)\s+to\s+tomorrow$")
        .captures(n)
        .or_else(|| {
            rx!(r"^(?:deplace|decale|mets|repousse)\s+la\s+tache\s+(.+?)\s+(?:a|pour)\s+demain$")
                .captures(n)
        })?;
    let query = said(&first_group(inp, &c)?);
    let tomorrow = ctx.now.date().succ_opt()?;
    (!query.is_empty()).then(|| {
        Plan::call(
            "move_task",
            json!({ "query": query, "date": tomorrow.format("%Y-%m-%d").to_string() }),
        )
    })
}

pub(in crate::agent::llm::offline) fn goals(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let list = rx!(
        r"^(?:(?:show|list|see|view)(?:\s+me)?\s+)?(?:my|the|our)?\s*goals$|^(?:what\s+are\s+my\s+goals|how\s+are\s+my\s+goals(?:\s+going)?)$"
    )
    .is_match(n)
        || rx!(
            r"^(?:(?:montre|affiche|liste|voir|quels\s+sont)(?:-moi)?\s+)?(?:mes|les)?\s*objectifs$"
        )
        .is_match(n);
    if list {
        return Some(Plan::call("list_goals", json!({})));
    }

    // "progress on running: did 4k", "reading update - finished book 3",
    // "progrès course : 4 km": the goal is named by a word it shares.
    let progress = [
        rx!(
            r"^(?:goal\s+)?(?:progress|update)(?:\s+(?:on|for|about))?\s+(?:the\s+|my\s+)?(.+?)(?:\s+goal)?\s*(?::|\s-|,)\s*(.+)$"
        ),
        rx!(r"^(.+?)\s+(?:goal\s+)?(?:progress|update)\s*(?::|-|,)?\s*(.+)$"),
        rx!(
            r"^(?:progres|avancement|objectif\s+progres|mise\s+a\s+jour)(?:\s+(?:sur|pour|de|du))?(?:\s+(?:l'objectif|mon\s+objectif|objectif))?\s*:?\s*(.+?)\s*(?::|\s-|,)\s*(.+)$"
        ),
    ];
    for re in progress {
        if let Some(c) = re.captures(n) {
            let words = resolve::key_words(inp.group(&c, 1)?.orig());
            let note = said(&inp.group(&c, 2)?);
            if !words.is_empty() && !note.is_empty() {
                return Some(Plan::Lookup(Lookup::new(Then::Progress { note }, words)));
            }
        }
    }

    let add = [
        rx!(
            r"^(?:new\s+goal|(?:add|set)\s+(?:a\s+)?(?:new\s+)?goal|goal|my\s+(?:new\s+)?goal\s+is)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(
            r"^(?:nouvel\s+objectif|ajoute(?:r)?\s+(?:un\s+)?(?:nouvel\s+)?objectif|objectif|mon\s+(?:nouvel\s+)?objectif\s+est)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
    ];
    for re in add {
        if let Some(c) = re.captures(n) {
            let title = text::strip_trail(
                &text::strip_lead(&first_group(inp, &c)?, &["to", "de", "d'"], false),
                &[
                    "lol", "haha", "mdr", "please", "thanks", "stp", "svp", "merci",
                ],
            );
            if !title.is_empty() {
                return Some(Plan::call("add_goal", json!({ "title": said(&title) })));
            }
        }
    }
    None
}

/// "i need to call the dentist", "faut que je rappelle Paul": something to
/// do, with no time (a time makes it a reminder, matched earlier).
pub(in crate::agent::llm::offline) fn need_to(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:i\s+(?:really\s+)?(?:need|have|got)\s+to|i\s+gotta|gotta|i\s+must|need\s+to|have\s+to|je\s+dois|(?:il\s+)?faut\s+(?:absolument\s+)?que\s+je|(?:il\s+)?faudrait\s+que\s+je|je\s+devrais)\s+(.+)$"
    )
    .captures(n)?;
    let title = said(&inp.group(&c, 1)?);
    (title.split_whitespace().count() >= 2 || title.chars().count() >= 5)
        .then(|| Plan::call("add_task", json!({ "title": title })))
}
