//! Database errors in a form that may be logged.
//!
//! PostgreSQL's error *detail* quotes the offending row ("Failing row
//! contains (…, +15145550101, remind me to call my therapist, …)"), and
//! `sqlx::Error`'s `Debug` prints it; data-exception *messages* quote the
//! rejected input. Both can carry message bodies and phone numbers, so
//! only the SQLSTATE, the table, the column and the constraint are kept —
//! enough to find the cause, nothing of the person's data.

use std::fmt;

/// What of a `sqlx::Error` may be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedDbError {
    code: Option<String>,
    table: Option<String>,
    column: Option<String>,
    constraint: Option<String>,
    /// The server's message, kept only for error classes whose message
    /// names objects, never values.
    message: Option<String>,
    /// For errors that are not from the server: its kind and text (pool
    /// timeouts, I/O, protocol), which never contain row data.
    other: Option<String>,
    /// Whether the connection went away (see [`super::connection_lost`]).
    connection_lost: bool,
}

impl RedactedDbError {
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    /// True when the error was the connection going away, not a refusal.
    pub fn connection_lost(&self) -> bool {
        self.connection_lost
    }
}

/// The loggable form of `e`.
pub fn redact(e: &sqlx::Error) -> RedactedDbError {
    let redacted = match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.into_owned());
            let pg = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
            let message = code
                .as_deref()
                .filter(|c| message_is_safe(c))
                .map(|_| d.message().to_string());
            RedactedDbError {
                code,
                table: d.table().map(str::to_owned),
                column: pg.and_then(|p| p.column()).map(str::to_owned),
                constraint: d.constraint().map(str::to_owned),
                message,
                other: None,
                connection_lost: false,
            }
        }
        // Row decoding errors may quote a value; say only which kind.
        sqlx::Error::ColumnDecode { index, .. } => {
            RedactedDbError::other(format!("cannot decode column {index}"))
        }
        sqlx::Error::Decode(_) => RedactedDbError::other("cannot decode a value".into()),
        sqlx::Error::Encode(_) => RedactedDbError::other("cannot encode a value".into()),
        other => RedactedDbError::other(other.to_string()),
    };
    RedactedDbError {
        connection_lost: super::connection_lost(e),
        ..redacted
    }
}

impl RedactedDbError {
    fn other(text: String) -> Self {
        RedactedDbError {
            code: None,
            table: None,
            column: None,
            constraint: None,
            message: None,
            other: Some(text),
            connection_lost: false,
        }
    }
}

/// SQLSTATE classes whose messages name tables, columns and constraints
/// only: integrity violations (23: the values are in the detail, which is
/// dropped), syntax and access (42), connection (08), resources (53),
/// operator intervention (57), transaction rollback (40), and object state
/// (55). Data exceptions (22) and raised exceptions (P0) quote input.
fn message_is_safe(code: &str) -> bool {
    matches!(
        code.get(..2),
        Some("23" | "42" | "08" | "53" | "57" | "40" | "55")
    )
}

impl fmt::Display for RedactedDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(other) = &self.other {
            return write!(f, "database error: {other}");
        }
        write!(
            f,
            "database error {}",
            self.code.as_deref().unwrap_or("(no code)")
        )?;
        if let Some(table) = &self.table {
            write!(f, " on table {table}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " column {column}")?;
        }
        if let Some(constraint) = &self.constraint {
            write!(f, " constraint {constraint}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// Same as `Display`: the derived form would be no safer and less readable.
impl fmt::Debug for RedactedDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for RedactedDbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_server_errors_keep_their_kind() {
        let e = redact(&sqlx::Error::PoolTimedOut);
        assert!(e.to_string().contains("pool timed out"), "{e}");
        let e = redact(&sqlx::Error::RowNotFound);
        assert!(e.to_string().contains("no rows"), "{e}");
    }

    #[test]
    fn only_object_naming_classes_keep_their_message() {
        assert!(message_is_safe("23514"));
        assert!(message_is_safe("42P01"));
        assert!(!message_is_safe("22P02"));
        assert!(!message_is_safe("P0001"));
        assert!(!message_is_safe(""));
    }
}
