//! Notion objects to text: a page's title, URL and dates; a block tree as
//! lines (headings as `#`, list items as `- `, to-dos, quotes, code kept in
//! fences, table rows as `a | b | c`), database row properties as
//! `Name: value` lines.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The plain text of a rich-text array (annotations dropped, links kept as text).
pub fn rich_text(value: &Value) -> String {
    value
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| {
                    p.get("plain_text")
                        .or_else(|| p.pointer("/text/content"))
                        .and_then(Value::as_str)
                })
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// What ingestion needs of a page object.
#[derive(Debug, Clone)]
pub struct PageMeta {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub last_edited: DateTime<Utc>,
    /// Archived or in the trash: its document is removed.
    pub gone: bool,
    /// `Name: value` lines of a database row's other properties.
    pub properties: Vec<String>,
}

/// Reads a page object from `search` or a database query.
pub fn page_meta(page: &Value) -> Option<PageMeta> {
    let id = page.get("id")?.as_str()?.to_string();
    let last_edited = page
        .get("last_edited_time")?
        .as_str()?
        .parse::<DateTime<Utc>>()
        .ok()?;
    let gone = [page.get("archived"), page.get("in_trash")]
        .iter()
        .any(|v| v.and_then(Value::as_bool) == Some(true));
    let mut title = String::new();
    let mut properties = Vec::new();
    if let Some(props) = page.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let kind = prop.get("type").and_then(Value::as_str).unwrap_or_default();
            if kind == "title" {
                title = rich_text(&prop["title"]);
            } else if let Some(text) = property_text(kind, &prop[kind])
                && !text.is_empty()
            {
                properties.push(format!("{name}: {text}"));
            }
        }
    }
    properties.sort();
    Some(PageMeta {
        id,
        title: title.trim().chars().take(500).collect(),
        url: page.get("url").and_then(Value::as_str).map(str::to_string),
        last_edited,
        gone,
        properties,
    })
}

fn property_text(kind: &str, value: &Value) -> Option<String> {
    Some(match kind {
        "rich_text" => rich_text(value),
        "number" => value.as_f64().map(|n| n.to_string())?,
        "select" | "status" => value.get("name")?.as_str()?.to_string(),
        "multi_select" => value
            .as_array()?
            .iter()
            .filter_map(|o| o.get("name").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        "date" => value.get("start")?.as_str()?.to_string(),
        "url" | "email" | "phone_number" => value.as_str()?.to_string(),
        "checkbox" => value.as_bool()?.to_string(),
        _ => return None,
    })
}

/// One block as a line (or lines), without its children. `None` for blocks
/// that carry no text (dividers, images, unsupported types).
pub fn block_line(block: &Value) -> Option<String> {
    let kind = block.get("type")?.as_str()?;
    let body = block.get(kind)?;
    let text = || rich_text(&body["rich_text"]);
    let line = match kind {
        "heading_1" => format!("# {}", text()),
        "heading_2" => format!("## {}", text()),
        "heading_3" => format!("### {}", text()),
        "paragraph" | "toggle" | "callout" => text(),
        "quote" => format!("> {}", text()),
        "bulleted_list_item" | "numbered_list_item" => format!("- {}", text()),
        "to_do" => {
            let done = body.get("checked").and_then(Value::as_bool) == Some(true);
            format!("- [{}] {}", if done { "x" } else { " " }, text())
        }
        "code" => format!("```\n{}\n```", text()),
        "table_row" => body
            .get("cells")?
            .as_array()?
            .iter()
            .map(rich_text)
            .collect::<Vec<_>>()
            .join(" | "),
        "child_page" | "child_database" => body.get("title")?.as_str()?.to_string(),
        _ => return None,
    };
    (!line.trim().is_empty()).then_some(line)
}
