//! The person's knowledge base: their texted notes and their Notion,
//! ingested offline (jobs, incremental, checkpointed) and searched online
//! (full text fused with optional embeddings). Storage is in
//! `store::knowledge`; this module holds the domain logic above it.

pub mod chunk;
pub mod embed;
pub mod indexer;
pub mod mmr;
pub mod notes;
pub mod notion;
pub mod online;
pub mod schedule;
pub mod search;

pub use embed::{Embedder, GeminiEmbedder, OpenAiEmbedder, Purpose};
pub use notes::save_note;
pub use search::{QueryVector, search};
