//! Notion ingestion: the API client, Notion objects to text, and the
//! incremental sync a job runs. The client may move to
//! `src/integrations/notion` once that module lands.

pub mod blocks;
pub mod client;
pub mod sync;

pub use client::{NotionClient, NotionError};
pub use sync::{Ended, SyncError, WORKSPACE, request_sync, sync};
