//! Export links: texted to the person's verified number after they
//! confirmed "export my data", working once and for 15 minutes. Opening
//! one (GET) spends nothing, since messaging apps open links to preview
//! them; downloading (POST) spends it and returns the export document.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::config::Config;
use crate::db::UserTx;
use crate::oauth::links::{ConnectLinks, LinkError};
use crate::store::integrations::{export_link_usable, record_export_link, use_export_link};
use crate::store::person_data;
use crate::store::{
    Actor, Locale, Outcome, StoreError, User, UserId, record_audit, record_audit_outcome,
};

/// Why an export link is refused; none says more than the page needs.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("export link expired")]
    Expired,
    #[error("export link already used")]
    Used,
    #[error("export link is not valid")]
    Invalid,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ExportError {
    /// The HTTP status of its page.
    pub fn status(&self) -> u16 {
        match self {
            ExportError::Expired | ExportError::Used => 410,
            ExportError::Invalid => 400,
            ExportError::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ExportError {
    fn from(e: sqlx::Error) -> Self {
        ExportError::Internal(crate::db::redact(&e).to_string())
    }
}

impl From<LinkError> for ExportError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Expired => ExportError::Expired,
            LinkError::Invalid => ExportError::Invalid,
        }
    }
}

/// Signs, checks and spends export links. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ExportLinks {
    links: ConnectLinks,
    public_base_url: String,
}

impl ExportLinks {
    /// From `CONNECT_LINK_KEYS` (the keys that sign connect links);
    /// `Ok(None)` when they are not set: export by text is then not
    /// offered (operators still export with `nudge admin user export`).
    pub fn from_config(config: &Config) -> Result<Option<Self>, String> {
        let Some(keys) = &config.oauth.connect_link_keys else {
            return Ok(None);
        };
        Ok(Some(Self {
            links: ConnectLinks::from_config(keys)?,
            public_base_url: config.public_base_url.trim_end_matches('/').to_owned(),
        }))
    }

    /// A fresh link for the person of `tx` (its jti recorded there).
    pub async fn issue(&self, tx: &mut UserTx) -> Result<String, StoreError> {
        let (token, claims) = self.links.sign_export(tx.uuid(), Utc::now());
        record_export_link(tx, claims.jti, claims.expires_at).await?;
        Ok(format!("{}/export/{token}", self.public_base_url))
    }

    /// The link is valid and unspent: the page may offer the download.
    /// Spends nothing.
    pub async fn check(&self, pool: &PgPool, token: &str) -> Result<Locale, ExportError> {
        let claims = self.links.verify_export(token, Utc::now())?;
        let mut tx = UserTx::begin(pool, UserId(claims.user)).await?;
        if !export_link_usable(&mut tx, claims.jti).await? {
            return Err(ExportError::Used);
        }
        let locale = User::current(&mut tx).await?.locale();
        tx.commit().await?;
        Ok(locale)
    }

    /// Spends the link and returns the person's export, audited, in one
    /// transaction in the person's scope: a second download gets
    /// [`ExportError::Used`].
    pub async fn download(&self, pool: &PgPool, token: &str) -> Result<Value, ExportError> {
        let claims = self.links.verify_export(token, Utc::now())?;
        let user = UserId(claims.user);
        let mut tx = UserTx::begin(pool, user).await?;
        if !use_export_link(&mut tx, claims.jti).await? {
            tx.rollback().await?;
            let mut audit = UserTx::begin(pool, user).await?;
            record_audit_outcome(
                audit.conn(),
                Some(user),
                Actor::User,
                "user.export",
                Outcome::Refused,
                json!({ "via": "sms_link", "why": "link already used" }),
            )
            .await?;
            audit.commit().await?;
            return Err(ExportError::Used);
        }
        let document = person_data::export(&mut tx).await?;
        let rows: usize = document["tables"]
            .as_object()
            .map(|t| t.values().filter_map(|v| v.as_array().map(Vec::len)).sum())
            .unwrap_or(0);
        record_audit(
            tx.conn(),
            Some(user),
            Actor::User,
            "user.export",
            json!({ "via": "sms_link", "rows": rows }),
        )
        .await?;
        tx.commit().await?;
        Ok(document)
    }
}
