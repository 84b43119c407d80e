//! Text normalisation and chunking. Documents arrive as lines (headings
//! `#`…, bullets, table rows, code); chunks follow the headings, stay under
//! a size bound, and overlap a little so a sentence cut at a boundary is
//! still found whole on one side.

use sha2::{Digest, Sha256};

use crate::store::knowledge::NewChunk;

/// Upper bound of a chunk's body, in characters: a few paragraphs, small
/// enough for an SMS-sized answer and a sharp embedding.
pub const MAX_CHUNK_CHARS: usize = 1200;
/// What a chunk repeats of the one before it when a section is split.
pub const OVERLAP_CHARS: usize = 150;

/// Hex SHA-256 of `text`: content hashes of documents and chunks.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whitespace collapsed inside lines, bullets made `- `, blank runs
/// dropped; lines inside ``` fences are kept as they are (code).
pub fn normalise(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            out.push(line.trim().to_string());
            continue;
        }
        if in_code {
            out.push(line.trim_end().to_string());
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let mut line = words.join(" ");
        for bullet in ["• ", "* ", "◦ ", "▪ ", "– "] {
            if let Some(rest) = line.strip_prefix(bullet) {
                line = format!("- {rest}");
            }
        }
        out.push(line);
    }
    out.join("\n")
}

/// The chunks of a normalised document: one run per heading section,
/// split at line (then word) boundaries when longer than
/// [`MAX_CHUNK_CHARS`], each later piece starting with the last
/// [`OVERLAP_CHARS`] of the one before.
pub fn chunk(title: &str, text: &str) -> Vec<NewChunk> {
    let mut chunks = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut section: Vec<String> = Vec::new();
    let flush = |path: &[(usize, String)], section: &mut Vec<String>, out: &mut Vec<NewChunk>| {
        let heading = std::iter::once(title.to_string())
            .chain(path.iter().map(|(_, h)| h.clone()))
            .filter(|h| !h.is_empty())
            .collect::<Vec<_>>()
            .join(" > ");
        for body in split_section(section) {
            out.push(new_chunk(&heading, body));
        }
        section.clear();
    };
    for line in text.lines() {
        let level = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && line[level..].starts_with(' ') {
            flush(&path, &mut section, &mut chunks);
            path.retain(|(l, _)| *l < level);
            path.push((level, line[level..].trim().to_string()));
        } else if !line.trim().is_empty() {
            section.push(line.to_string());
        }
    }
    flush(&path, &mut section, &mut chunks);
    chunks
}

fn new_chunk(heading: &str, body: String) -> NewChunk {
    let heading_path: String = heading.chars().take(1000).collect();
    NewChunk {
        content_hash: sha256_hex(&format!("{heading_path}\n{body}")),
        heading_path,
        body,
    }
}

/// A section's lines as bodies of at most [`MAX_CHUNK_CHARS`].
fn split_section(lines: &[String]) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for line in lines {
        if line.chars().count() <= MAX_CHUNK_CHARS {
            pieces.push(line.clone());
        } else {
            pieces.extend(split_words(line, MAX_CHUNK_CHARS - OVERLAP_CHARS));
        }
    }
    let mut bodies = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let len = current.chars().count() + piece.chars().count() + 1;
        if !current.is_empty() && len > MAX_CHUNK_CHARS {
            let overlap = tail(&current, OVERLAP_CHARS);
            bodies.push(std::mem::take(&mut current));
            current = overlap;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&piece);
    }
    if !current.trim().is_empty() {
        bodies.push(current);
    }
    bodies
}

/// Words of `line` packed into pieces of at most `max` characters.
fn split_words(line: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split_whitespace() {
        let word: String = word.chars().take(max).collect();
        if !current.is_empty() && current.chars().count() + word.chars().count() + 1 > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The last words of `text` within `max` characters.
fn tail(text: &str, max: usize) -> String {
    let mut words: Vec<&str> = Vec::new();
    let mut len = 0;
    for word in text.split_whitespace().rev() {
        len += word.chars().count() + 1;
        if len > max {
            break;
        }
        words.push(word);
    }
    words.reverse();
    words.join(" ")
}

/// French or English, by common function words: enough to pick the
/// full-text configuration of a document.
pub fn detect_language(text: &str) -> crate::store::Locale {
    const FR: &[&str] = &[
        "le", "la", "les", "des", "du", "est", "et", "une", "pour", "dans", "avec", "que", "pas",
        "sur", "au", "aux", "ce", "qui", "mon", "ma", "mes",
    ];
    const EN: &[&str] = &[
        "the", "is", "and", "of", "to", "for", "in", "with", "that", "not", "on", "at", "this",
        "my", "are", "it", "be",
    ];
    let (mut fr, mut en) = (0, 0);
    for word in text.split(|c: char| !c.is_alphabetic()).take(2000) {
        let w = word.to_lowercase();
        fr += usize::from(FR.contains(&w.as_str()));
        en += usize::from(EN.contains(&w.as_str()));
    }
    if fr > en {
        crate::store::Locale::Fr
    } else {
        crate::store::Locale::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_make_paths_and_sections() {
        let text =
            normalise("# Health\n## Doctor\n* 50 mg   in the morning\n\n# Home\nwifi Blue42");
        let chunks = chunk("Life", &text);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].heading_path, "Life > Health > Doctor");
        assert_eq!(chunks[0].body, "- 50 mg in the morning");
        assert_eq!(chunks[1].heading_path, "Life > Home");
    }

    #[test]
    fn long_sections_split_with_overlap_and_bound() {
        let line = (0..600)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let chunks = chunk("T", &line);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for c in &chunks {
            assert!(
                c.body.chars().count() <= MAX_CHUNK_CHARS,
                "{}",
                c.body.len()
            );
        }
        let last_of_first = chunks[0].body.split_whitespace().last().unwrap();
        assert!(
            chunks[1].body.contains(last_of_first),
            "overlap repeats the end"
        );
    }

    #[test]
    fn same_text_same_hash_and_code_kept() {
        let a = chunk("T", &normalise("```\n  let x  = 1;\n```"));
        let b = chunk("T", &normalise("```\n  let x  = 1;\n```"));
        assert_eq!(a, b);
        assert!(a[0].body.contains("  let x  = 1;"));
        assert_ne!(
            chunk("T", "a b")[0].content_hash,
            chunk("T", "a c")[0].content_hash
        );
    }

    #[test]
    fn language_by_function_words() {
        assert_eq!(
            detect_language("le code du wifi est dans la cuisine"),
            crate::store::Locale::Fr
        );
        assert_eq!(
            detect_language("the wifi code is in the kitchen"),
            crate::store::Locale::En
        );
    }
}
