//! The knowledge base: "note: …" keeps a note (a document of the person's
//! notes, not a short memory fact); "what do my notes say about …",
//! "search my notes for …", "cherche dans mes notes …" search notes and
//! Notion; "sync my notion" / "mets à jour Notion" asks for a sync.

use serde_json::json;

use super::said;
use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

/// "note: the wifi at mum's is Blue42", "note : le code est 1234": the
/// colon marks a note to keep as written ("note that …" stays a memory).
pub(in crate::agent::llm::offline) fn note(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let c = rx!(r"^(?:note|notes|nouvelle\s+note|new\s+note)\s*:\s*(.+)$").captures(inp.norm())?;
    let text = said(&inp.group(&c, 1)?);
    (!text.is_empty()).then(|| Plan::call("save_note", json!({ "text": text })))
}

/// A question addressed to the notes (or Notion) by name.
pub(in crate::agent::llm::offline) fn ask_notes(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:what\s+(?:do|does)\s+my\s+(?:notes|notion)\s+say\s+(?:about|on)|search\s+my\s+(?:notes|notion)\s+(?:for|about)|look\s+(?:up|in)\s+my\s+(?:notes|notion)\s+(?:for|about)?|check\s+my\s+(?:notes|notion)\s+(?:for|about))\s+(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:cherche|recherche|regarde)\s+dans\s+(?:mes\s+notes|mon\s+notion|notion)\s*(?::|pour|sur)?\s*(.+)$|^(?:que\s+disent|qu'est-ce\s+que\s+disent)\s+mes\s+notes\s+(?:sur|a\s+propos\s+de|de)\s+(.+)$"
        )
        .captures(n)
    })?;
    let query = super::first_group(inp, &c)?;
    let query = said(&query);
    (!query.is_empty()).then(|| Plan::call("search_knowledge", json!({ "query": query })))
}

/// "sync my notion", "mets à jour notion".
pub(in crate::agent::llm::offline) fn sync_notion(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    rx!(r"^(?:sync|resync|refresh|update)\s+(?:my\s+)?notion(?:\s+now)?$|^(?:mets?\s+a\s+jour|synchronise|resynchronise|actualise)\s+(?:mon\s+)?notion$")
        .is_match(inp.norm())
        .then(|| Plan::call("sync_notion", json!({})))
}
