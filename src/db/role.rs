//! Which database role a session really runs as, and the checks built on it.
//!
//! Row-level security is only a wall for roles that are neither superuser
//! nor BYPASSRLS. `serve`, `worker` and `dev` read the connected role's
//! attributes from `pg_roles` — never guess them from a URL — and refuse
//! to run as a role that walks through the wall. Admin commands about one
//! person switch to the application role ([`AppRole`]) inside their scoped
//! transaction, so RLS applies to operators too.

use std::fmt;
use std::str::FromStr;

use sqlx::PgConnection;

/// The attributes of the role a session runs as (`current_user`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRole {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
}

impl SessionRole {
    /// Reads the current role's attributes on `conn`.
    pub async fn current(conn: &mut PgConnection) -> Result<SessionRole, sqlx::Error> {
        sqlx::query_as(
            "select rolname::text as name, rolsuper as superuser, rolbypassrls as bypass_rls \
             from pg_roles where rolname = current_user",
        )
        .fetch_one(conn)
        .await
    }

    /// True when row-level security does not apply to this role.
    pub fn bypasses_rls(&self) -> bool {
        self.superuser || self.bypass_rls
    }

    /// `Err` when this role may not serve per-user work.
    pub fn ensure_bound_by_rls(self) -> Result<SessionRole, RoleError> {
        if self.bypasses_rls() {
            return Err(RoleError::TooPowerful {
                what: if self.superuser {
                    "is a superuser"
                } else {
                    "has BYPASSRLS"
                },
                role: self.name,
            });
        }
        Ok(self)
    }
}

/// Why a process refuses the database role it was given.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error(
        "refusing to start: DATABASE_URL connects as role '{role}', which {what} and so bypasses \
         row-level security; connect as the application role `nudge migrate` creates \
         (no SUPERUSER, no BYPASSRLS)"
    )]
    TooPowerful { role: String, what: &'static str },
}

/// Refuses, on every new pooled connection, a role that bypasses RLS: a
/// process that started while the database was down, or whose role was
/// altered later, still never serves a request through the open wall.
pub async fn refuse_privileged_connection(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    match SessionRole::current(conn).await?.ensure_bound_by_rls() {
        Ok(_) => Ok(()),
        Err(e) => {
            // The pool retries and reports only a timeout to its caller;
            // this line says why.
            tracing::error!(error = %e, "database connection refused");
            Err(sqlx::Error::Configuration(Box::new(e)))
        }
    }
}

/// The name of the application role, checked to be a plain identifier so
/// it can be shown and bound without quoting surprises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRole(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "'{0}' is not a usable role name (letters, digits and underscores, not starting with a digit, at most 63)"
)]
pub struct AppRoleError(String);

impl AppRole {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AppRole {
    type Err = AppRoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(AppRole(s.to_string()))
        } else {
            Err(AppRoleError(s.to_string()))
        }
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_plain_identifiers() {
        for good in ["nudge_app", "app2", "_x"] {
            assert!(good.parse::<AppRole>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "2app",
            "app; drop table users",
            "a-b",
            "Ünï",
            &"a".repeat(64),
        ] {
            assert!(bad.parse::<AppRole>().is_err(), "{bad}");
        }
    }

    #[test]
    fn superusers_and_bypassers_are_refused_with_one_line() {
        let role = |superuser, bypass_rls| SessionRole {
            name: "nudge".into(),
            superuser,
            bypass_rls,
        };
        assert!(role(false, false).ensure_bound_by_rls().is_ok());
        let e = role(true, false)
            .ensure_bound_by_rls()
            .unwrap_err()
            .to_string();
        assert!(e.contains("'nudge'") && e.contains("superuser"), "{e}");
        assert_eq!(e.lines().count(), 1);
        let e = role(false, true)
            .ensure_bound_by_rls()
            .unwrap_err()
            .to_string();
        assert!(e.contains("BYPASSRLS"), "{e}");
    }
}
