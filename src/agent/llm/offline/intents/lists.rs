//! Lists (shopping by default): add items, remove them, show, clear.

use serde_json::json;

use super::said;
use crate::agent::llm::offline::lookup::{Lookup, Then};
use crate::agent::llm::offline::text::{self, ARTICLES, Input};
use crate::agent::llm::offline::{Ctx, Plan};

/// The list's name as the tools know it: "shopping" unless another is
/// named; groceries and "courses" are the shopping list.
fn list_name(name: Option<Input>) -> String {
    let Some(name) = name else {
        return "shopping".to_string();
    };
    let name = text::strip_lead(
        &name,
        &["the", "my", "our", "de", "d'", "des", "la", "ma", "l'"],
        true,
    );
    let folded = name.norm();
    if folded.is_empty()
        || matches!(
            folded,
            "shopping"
                | "courses"
                | "course"
                | "grocery"
                | "groceries"
                | "grocery shopping"
                | "epicerie"
                | "commissions"
                | "emplettes"
        )
    {
        "shopping".to_string()
    } else {
        name.orig().to_lowercase()
    }
}

fn items(inp: &Input) -> Vec<String> {
    text::split_items(inp)
        .iter()
        .map(|i| {
            let i = text::strip_lead(i, &["some", "more", "plus", "encore"], true);
            said(&text::strip_trail(
                &text::strip_lead(&i, ARTICLES, false),
                &[
                    "please", "thanks", "stp", "svp", "merci", "too", "aussi", "as well",
                ],
            ))
        })
        .filter(|i| !i.is_empty())
        .collect()
}

fn list_call(name: &str, list: String, items: Vec<String>) -> Option<Plan> {
    (!items.is_empty()).then(|| Plan::call(name, json!({ "list": list, "items": items })))
}

fn remove_plan(list: String, items: Vec<String>) -> Option<Plan> {
    (!items.is_empty())
        .then(|| Plan::Lookup(Lookup::new(Then::RemoveItems { list, items }, Vec::new())))
}

pub(in crate::agent::llm::offline) fn lists(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();

    // clear, before "remove"/"delete" can read the list as an item
    for re in [
        rx!(
            r"^(?:clear|empty|reset|wipe|erase|delete)\s+(?:out\s+)?(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(
            r"^(?:vide|vider|efface|effacer|reinitialise|supprime)\s+(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
    ] {
        if let Some(c) = re.captures(n) {
            let list = list_name(inp.group(&c, 1));
            return Some(Plan::call("clear_list", json!({ "list": list })));
        }
    }

    // "bought the eggs, cross them off", "j'ai acheté les œufs, tu peux les
    // rayer", "pris le pain": off the shopping list, matched to what is on it.
    for re in [
        rx!(
            r"^(?:i\s+)?(?:just\s+)?(?:bought|got|picked\s+up|grabbed)\s+(.+?)(?:\s*,?\s*(?:so\s+|now\s+|you\s+can\s+|pls\s+|please\s+|and\s+)?(?:cross|take|tick|check|remove|scratch)\s+(?:them|it|those|that|these)(?:\s+off)?(?:\s+(?:the|my)\s+list)?)?$"
        ),
        rx!(
            r"^(?:j'ai\s+)?(?:achete|pris|trouve|recupere)\s+(.+?)(?:\s*,?\s*(?:tu\s+peux\s+|peux-tu\s+|alors\s+|donc\s+)?(?:les|le|la|l')\s*(?:rayer|enlever|retirer|raye|enleve|retire)(?:\s+de\s+la\s+liste)?)?$"
        ),
    ] {
        // "bought a lamp for 40" is an expense.
        if rx!(r"\d").is_match(n) {
            break;
        }
        if let Some(c) = re.captures(n) {
            return remove_plan("shopping".into(), items(&inp.group(&c, 1)?));
        }
    }

    // (pattern, group of the items, group of the list name)
    let adds = [
        rx!(
            r"^(?:(?:can|could)\s+you\s+)?(?:add|put)\s+(.+?)(?:\s+(?:to|on|in|into|onto)\s+(?:(?:my|the|our)\s+)?(?:(.+?)\s+list|(grocer(?:y|ies)|shopping)|list))?$"
        ),
        rx!(
            r"^(?:(?:tu\s+peux|peux-tu)\s+)?(?:ajoute|ajouter|rajoute|rajouter|mets|met|mettre)\s+(.+?)(?:\s+(?:a|sur|dans|au)\s+(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?|\s+(?:a\s+l'|aux\s+|a\s+mes\s+|dans\s+mes\s+)(epicerie|courses))?$"
        ),
        // "need butter and flour", "we're out of rice, salt and tea"
        rx!(
            r"^(?:(?:we|i)\s+)?(?:need|needs|(?:are|'re|re|am|'m)?\s*(?:all\s+)?out\s+of|(?:we're|were|i'm|im)\s+(?:all\s+)?out\s+of|running\s+low\s+on|(?:we|i)\s+ran\s+out\s+of|ran\s+out\s+of)\s+(.+)$()"
        ),
        rx!(
            r"^(?:on\s+n'a\s+plus\s+d[e']|on\s+a\s+plus\s+d[e']|il\s+n'y\s+a\s+plus\s+d[e']|y\s+a\s+plus\s+d[e']|plus\s+d[e']|il\s+(?:me|nous)\s+faut|faut\s+acheter|il\s+faut\s+acheter)\s*(.+)$()"
        ),
    ];
    for re in adds {
        if let Some(c) = re.captures(n) {
            let name = inp.group(&c, 2).or_else(|| inp.group(&c, 3));
            let wanted = inp.group(&c, 1)?;
            // "need to call mom" is not shopping.
            if rx!(r"^to\b").is_match(wanted.norm()) {
                return None;
            }
            return list_call("add_list_items", list_name(name), items(&wanted));
        }
    }

    let removes = [
        rx!(
            r"^(?:remove|delete|take|cross|scratch|tick)\s+(.+?)(?:\s+off)?\s+(?:from|off)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:remove|delete|cross\s+off|tick\s+off|take\s+off|scratch)\s+(.+?)(?:\s+off)?()$"),
        rx!(
            r"^(?:enleve|enlever|retire|retirer|supprime|supprimer|efface|raye|rayer|ote)\s+(.+?)\s+(?:de|d'|sur|dans)\s*(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(r"^(?:enleve|retire|raye)\s+(.+)()$"),
    ];
    for re in removes {
        if let Some(c) = re.captures(n) {
            return remove_plan(list_name(inp.group(&c, 2)), items(&inp.group(&c, 1)?));
        }
    }

    for re in [
        rx!(
            r"^(?:what(?:'s|s|\s+is)\s+on|what\s+do\s+i\s+have\s+on|what\s+do\s+i\s+need\s+(?:from|at)|show(?:\s+me)?|see|view|read(?:\s+me)?|check|open|get)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:my\s+|the\s+|our\s+)?(?:(\S+)\s+)?list$"),
        rx!(
            r"^(?:qu'est-ce\s+qu'il\s+y\s+a|qu'y\s+a-t-il|quoi|c'est\s+quoi|y\s+a\s+quoi)\s+(?:sur|dans)?\s*(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(
            r"^(?:(?:montre|affiche|voir|lis|donne)(?:-moi)?\s+)?(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(r"^liste\s+(?:de\s+|d'|des\s+)(.+)$"),
    ] {
        if let Some(c) = re.captures(n) {
            let list = list_name(inp.group(&c, 1));
            return Some(Plan::call("show_list", json!({ "list": list })));
        }
    }
    None
}
