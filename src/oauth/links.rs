//! Texted links: `PUBLIC_BASE_URL/connect/<token>` (connect an account)
//! and `PUBLIC_BASE_URL/export/<token>` (download one's data), texted only
//! to the person's verified number, so opening one proves who they are.
//!
//! The token is a JWT (HS256) with the signing key's id in its `kid`
//! header: `sub` is the person, `aud` the link's purpose (a connect token
//! is never an export token, nor the other way round), `prv` the provider
//! of a connect link, `jti` a row in `oauth_connect_links` that is spent
//! once, and it expires after 15 minutes. It is kept short because it is
//! texted: no `typ` header, no `iat`, and the two ids as 22 base64url
//! characters instead of 36, so a connect reply fits in two segments. Keys come from
//! `CONNECT_LINK_KEYS`; the last listed signs and every listed one
//! verifies, so keys rotate without breaking live links.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Access, Provider};
use crate::config::parse_link_keys;

/// How long a texted link works.
pub const LINK_LIFETIME: Duration = Duration::minutes(15);
const AUDIENCE: &str = "connect";
const EXPORT_AUDIENCE: &str = "export";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(with = "compact_id")]
    sub: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prv: Option<String>,
    /// The access asked for when more than the first connection's
    /// ("m": mail); absent for a first connection, so those links stay short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acc: Option<String>,
    #[serde(with = "compact_id")]
    jti: Uuid,
    aud: String,
    exp: i64,
}

/// A UUID as its 16 bytes in unpadded base64url (22 characters).
mod compact_id {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use uuid::Uuid;

    pub fn serialize<S: Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(id.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(D::Error::custom)?;
        Uuid::from_slice(&bytes).map_err(D::Error::custom)
    }
}

/// An access in a token: one letter, as every character is texted.
fn access_code(access: Access) -> &'static str {
    match access {
        Access::Calendar => "c",
        Access::Mail => "m",
    }
}

/// What a valid link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub user: Uuid,
    pub provider: Provider,
    pub access: Access,
    pub jti: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What a valid export link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportClaims {
    pub user: Uuid,
    pub jti: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Why a link is refused; none of them says more than the page needs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("link expired")]
    Expired,
    #[error("link is not valid")]
    Invalid,
}

/// Signs and verifies connect links.
#[derive(Clone)]
pub struct ConnectLinks {
    /// `(kid, key)`, the signing key last.
    keys: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for ConnectLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ConnectLinks").field("kids", &kids).finish()
    }
}

impl ConnectLinks {
    /// From `CONNECT_LINK_KEYS`.
    pub fn from_config(raw: &SecretString) -> Result<Self, String> {
        Ok(Self {
            keys: parse_link_keys(raw.expose_secret())?,
        })
    }

    /// A new signed token for this person and provider; the caller records
    /// its `jti` (`store::integrations::record_link`).
    pub fn sign(&self, user: Uuid, provider: Provider, now: DateTime<Utc>) -> (String, LinkClaims) {
        self.sign_with(user, provider, Access::Calendar, now)
    }

    /// As [`ConnectLinks::sign`], asking for `access` (mail: incremental
    /// consent on top of what was granted).
    pub fn sign_with(
        &self,
        user: Uuid,
        provider: Provider,
        access: Access,
        now: DateTime<Utc>,
    ) -> (String, LinkClaims) {
        let extra = (access != Access::Calendar).then_some(access);
        let (token, jti, expires_at) = self.sign_for(user, AUDIENCE, Some((provider, extra)), now);
        let claims = LinkClaims {
            user,
            provider,
            access,
            jti,
            expires_at,
        };
        (token, claims)
    }

    /// A new signed export link's token for this person; the caller
    /// records its `jti` (`store::oauth_states::record_export_link`).
    pub fn sign_export(&self, user: Uuid, now: DateTime<Utc>) -> (String, ExportClaims) {
        let (token, jti, expires_at) = self.sign_for(user, EXPORT_AUDIENCE, None, now);
        (
            token,
            ExportClaims {
                user,
                jti,
                expires_at,
            },
        )
    }

    fn sign_for(
        &self,
        user: Uuid,
        audience: &str,
        provider: Option<(Provider, Option<Access>)>,
        now: DateTime<Utc>,
    ) -> (String, Uuid, DateTime<Utc>) {
        let (kid, key) = self
            .keys
            .last()
            .expect("parse_link_keys refuses an empty list");
        let jti = Uuid::new_v4();
        // Whole seconds, as the token carries it.
        let expires_at = DateTime::from_timestamp((now + LINK_LIFETIME).timestamp(), 0)
            .expect("now + 15 minutes is a representable time");
        let mut header = Header::new(Algorithm::HS256);
        header.typ = None;
        header.kid = Some(kid.clone());
        let body = Claims {
            sub: user,
            prv: provider.map(|(p, _)| p.as_str().into()),
            acc: provider.and_then(|(_, a)| a).map(|a| access_code(a).into()),
            jti,
            aud: audience.into(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(
            &header,
            &body,
            &EncodingKey::from_secret(key.expose_secret().as_bytes()),
        )
        .expect("HS256 over a serialisable struct does not fail");
        (token, jti, expires_at)
    }

    /// Checks a connect link: signature (by `kid`), audience and expiry at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
        let (c, expires_at) = self.decode(token, AUDIENCE, now)?;
        let provider = c
            .prv
            .as_deref()
            .and_then(|p| p.parse().ok())
            .ok_or(LinkError::Invalid)?;
        let access = match c.acc.as_deref() {
            None => Access::Calendar,
            Some("m") => Access::Mail,
            Some(_) => return Err(LinkError::Invalid),
        };
        Ok(LinkClaims {
            user: c.sub,
            provider,
            access,
            jti: c.jti,
            expires_at,
        })
    }

    /// Checks an export link the same way.
    pub fn verify_export(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<ExportClaims, LinkError> {
        let (c, expires_at) = self.decode(token, EXPORT_AUDIENCE, now)?;
        Ok(ExportClaims {
            user: c.sub,
            jti: c.jti,
            expires_at,
        })
    }

    fn decode(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<(Claims, DateTime<Utc>), LinkError> {
        if token.len() > 2048 {
            return Err(LinkError::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| LinkError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(LinkError::Invalid);
        }
        let kid = header.kid.ok_or(LinkError::Invalid)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(k, _)| *k == kid)
            .ok_or(LinkError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        // Expiry is checked below against `now`, so tests can move time.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(key.expose_secret().as_bytes()),
            &validation,
        )
        .map_err(|_| LinkError::Invalid)?;
        let expires_at = DateTime::from_timestamp(data.claims.exp, 0).ok_or(LinkError::Invalid)?;
        if expires_at <= now {
            return Err(LinkError::Expired);
        }
        Ok((data.claims, expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(spec: &str) -> ConnectLinks {
        ConnectLinks::from_config(&SecretString::from(spec.to_owned())).unwrap()
    }

    const K1: &str = "k1:0123456789abcdef0123456789abcdef";
    const K2: &str = "k2:fedcba9876543210fedcba9876543210";

    #[test]
    fn a_texted_token_stays_short() {
        let l = links(K1);
        let (token, _) = l.sign(Uuid::new_v4(), Provider::Microsoft, Utc::now());
        // 232 characters today (was 330): with a base URL like
        // `https://nudge.example.com` and the sentence around it, a connect
        // reply stays within 320 characters, two SMS segments.
        assert!(token.len() <= 240, "{} characters: {token}", token.len());
    }

    #[test]
    fn a_mail_link_carries_its_access_and_stays_short() {
        let l = links(K1);
        let now = Utc::now();
        let (token, claims) = l.sign_with(Uuid::new_v4(), Provider::Google, Access::Mail, now);
        // 14 characters more than a first connection's link.
        assert!(token.len() <= 248, "{} characters", token.len());
        assert_eq!(claims.access, Access::Mail);
        assert_eq!(l.verify(&token, now).unwrap(), claims);
        let (plain, _) = l.sign(Uuid::new_v4(), Provider::Google, now);
        assert_eq!(l.verify(&plain, now).unwrap().access, Access::Calendar);
    }

    #[test]
    fn signs_verifies_and_expires() {
        let l = links(K1);
        let now = Utc::now();
        let user = Uuid::new_v4();
        let (token, claims) = l.sign(user, Provider::Notion, now);
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
            Some("k1")
        );
        assert_eq!(l.verify(&token, now).unwrap(), claims);
        assert_eq!(claims.user, user);
        assert_eq!(
            l.verify(&token, now + LINK_LIFETIME),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn rotation_keeps_old_links_and_drops_retired_keys() {
        let old = links(K1);
        let both = links(&format!("{K1},{K2}"));
        let new_only = links(K2);
        let now = Utc::now();
        let (old_token, _) = old.sign(Uuid::new_v4(), Provider::Google, now);
        let (new_token, _) = both.sign(Uuid::new_v4(), Provider::Google, now);
        assert_eq!(
            jsonwebtoken::decode_header(&new_token)
                .unwrap()
                .kid
                .as_deref(),
            Some("k2")
        );
        assert!(both.verify(&old_token, now).is_ok());
        assert_eq!(new_only.verify(&old_token, now), Err(LinkError::Invalid));
    }

    #[test]
    fn a_link_serves_only_its_own_purpose() {
        let l = links(K1);
        let now = Utc::now();
        let user = Uuid::new_v4();
        let (export, claims) = l.sign_export(user, now);
        assert_eq!(l.verify_export(&export, now).unwrap(), claims);
        assert_eq!(l.verify(&export, now), Err(LinkError::Invalid));
        let (connect, _) = l.sign(user, Provider::Google, now);
        assert_eq!(l.verify_export(&connect, now), Err(LinkError::Invalid));
        assert_eq!(
            l.verify_export(&export, now + LINK_LIFETIME),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_are_invalid() {
        let l = links(K1);
        let now = Utc::now();
        let (token, _) = l.sign(Uuid::new_v4(), Provider::Google, now);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        assert_eq!(l.verify(&parts.join("."), now), Err(LinkError::Invalid));
        // Same claims, signed by a key we do not hold but with our kid.
        let forged = links("k1:another-secret-that-is-32-chars-long");
        let (forged, _) = forged.sign(Uuid::new_v4(), Provider::Google, now);
        assert_eq!(l.verify(&forged, now), Err(LinkError::Invalid));
        assert_eq!(l.verify("not.a.jwt", now), Err(LinkError::Invalid));
        assert_eq!(l.verify("", now), Err(LinkError::Invalid));
    }
}
