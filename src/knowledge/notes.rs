//! Notes the person texts ("note: the wifi at mum's is Blue42"): each is a
//! document of their source "notes", chunked and searchable like a page.

use crate::db::UserTx;
use crate::store::knowledge::{KnowledgeSource, NewDocument, SourceKind, Stored, store_document};
use crate::store::{Locale, StoreError};

use super::chunk::{chunk, detect_language, normalise, sha256_hex};

/// The longest note kept (a forwarded long text fits; a book does not).
pub const MAX_NOTE_CHARS: usize = 20_000;

/// A note's title: its first line, at most eight words.
fn title_of(text: &str) -> String {
    let first = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim();
    let words: Vec<&str> = first.split_whitespace().take(8).collect();
    words.join(" ")
}

/// Stores a note as a document of the "notes" source. The same text twice
/// is one note (its id is its hash).
pub async fn save_note(
    tx: &mut UserTx,
    text: &str,
    language: Option<Locale>,
) -> Result<Stored, StoreError> {
    let text = normalise(text);
    let source = KnowledgeSource::ensure(tx, SourceKind::Notes, "notes", "Notes").await?;
    let title = title_of(&text);
    let hash = sha256_hex(&text);
    let language = language.unwrap_or_else(|| detect_language(&text));
    let chunks = chunk("", &text);
    store_document(
        tx,
        source.id,
        &NewDocument {
            external_id: &hash,
            title: &title,
            url: None,
            last_edited: Some(chrono::Utc::now()),
            content_hash: &hash,
            language,
        },
        &chunks,
    )
    .await
}
