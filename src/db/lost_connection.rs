//! Whether a database error means the connection went away under the work
//! (a server restart, `pg_terminate_backend`, a network cut) rather than
//! that the database refused the work. Idempotent work may run again on a
//! fresh connection; a refusal would only be refused again.

/// True when `e` says the connection was lost, not that the work was wrong.
pub fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| lost_code(&code)),
        _ => false,
    }
}

/// SQLSTATE class 08 (connection exception) and the operator-intervention
/// codes that end a session: terminated by an administrator (57P01), crash
/// shutdown (57P02), not accepting connections yet (57P03).
fn lost_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_and_terminated_sessions_are_lost_connections() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(connection_lost(&io));
        assert!(lost_code("57P01"));
        assert!(lost_code("08006"));
    }

    #[test]
    fn refusals_are_not_lost_connections() {
        assert!(!connection_lost(&sqlx::Error::PoolTimedOut));
        assert!(!connection_lost(&sqlx::Error::RowNotFound));
        assert!(!lost_code("23505"));
        assert!(!lost_code("40001"));
        assert!(!lost_code("57014"));
    }
}
