//! The day's agenda: "what do i have tomorrow", "j'ai quoi aujourd'hui".

use crate::agent::llm::offline::lookup::{Lookup, Then};
use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

/// "anything I need to do today?", "what do i have tmrw", "j'ai quoi
/// aujourd'hui": the day's reminders (and, for today, the open tasks).
pub(in crate::agent::llm::offline) fn agenda(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:(?:is\s+there\s+)?anything|what(?:'s|s)?(?:\s+do\s+i\s+have|\s+have\s+i\s+got|\s+is)?(?:\s+(?:planned|on|going\s+on|happening|up))?|what\s+do\s+i\s+(?:need|have)\s+to\s+do|do\s+i\s+have\s+anything|what(?:'s|s)\s+my\s+(?:day|schedule|agenda|plan)(?:\s+look\s+like)?|my\s+(?:day|schedule|agenda)|agenda|schedule|plans?)(?:\s+(?:i\s+(?:need|have)\s+to\s+do|to\s+do|planned|on|for|going\s+on|happening))?\s*(?P<day>today|tonight|tomorrow|for\s+today|for\s+tomorrow|look\s+like(?:\s+today)?|like\s+today)?$"
    )
    .captures(n)
    .filter(|c| c.name("day").is_some() || rx!(r"\b(?:day|schedule|agenda)\b").is_match(n))
    .or_else(|| {
        rx!(
            r"^(?:(?:j'ai|qu'est-ce\s+que\s+j'ai|y\s+a|il\s+y\s+a|qu'est-ce\s+qu'il\s+y\s+a|quoi)(?:\s+quoi)?(?:\s+(?:de\s+prevu|a\s+faire|au\s+programme|comme\s+trucs?))?|quoi\s+de\s+prevu|(?:mon|le)\s+programme|(?:c'est\s+quoi\s+)?mon\s+(?:agenda|planning|programme))(?:\s+(?:pour\s+)?(?P<day>aujourd'hui|demain|ce\s+soir))?$"
        )
        .captures(n)
        .filter(|c| c.name("day").is_some())
    })?;
    let day_word = c.name("day").map_or("today", |m| m.as_str());
    let tomorrow = day_word.contains("tomorrow") || day_word.contains("demain");
    let day = if tomorrow {
        ctx.now.date().succ_opt()?
    } else {
        ctx.now.date()
    };
    Some(Plan::Lookup(Lookup::new(
        Then::Agenda {
            day,
            tasks: !tomorrow,
        },
        Vec::new(),
    )))
}
