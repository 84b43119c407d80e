//! Per-person OAuth settings: token and link keys, each provider's app and
//! endpoints.

use secrecy::{ExposeSecret, SecretString};

use super::reader::Reader;
use super::validate_base_url;

/// Per-person OAuth (issue 9): the connect links, and each provider's app
/// registration and endpoints. Every endpoint is a setting so tests (and
/// sovereign clouds) can point it elsewhere. `Debug` shows no secret.
#[derive(Debug, Clone, Default)]
pub struct OAuthConfig {
    /// `CONNECT_LINK_KEYS`: HMAC keys for the texted connect links,
    /// `kid:secret[,kid:secret…]`; the last listed signs, every listed one
    /// verifies (rotation: append a new key, drop the old one 15 minutes later).
    pub connect_link_keys: Option<SecretString>,
    pub google: ProviderApp,
    pub microsoft: ProviderApp,
    pub notion: ProviderApp,
    /// `MICROSOFT_TENANT` (default `common`), used in the default endpoints.
    pub microsoft_tenant: String,
    /// `NOTION_VERSION`: the `Notion-Version` header sent with every call.
    pub notion_version: String,
}

/// One provider's registration and endpoints.
#[derive(Debug, Clone, Default)]
pub struct ProviderApp {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
    /// The `iss` an authorization response must carry when it carries one
    /// (RFC 9207); `None`: the provider sends none.
    pub issuer: Option<String>,
}

impl ProviderApp {
    /// True when this provider can be connected (an app is registered).
    pub fn is_configured(&self) -> bool {
        self.client_id.is_some() && self.client_secret.is_some()
    }
}

/// One AES-256 key of `TOKEN_ENCRYPTION_KEYS`.
pub struct TokenKey {
    pub id: u32,
    pub bytes: secrecy::SecretBox<[u8; 32]>,
}

/// Parses `TOKEN_ENCRYPTION_KEYS` (`id:base64key,…`, each key 32 bytes,
/// ids unique). The error names the item by position, never its bytes.
pub fn parse_token_keys(raw: &str) -> Result<Vec<TokenKey>, String> {
    use base64::Engine as _;
    let mut keys: Vec<TokenKey> = Vec::new();
    for (n, item) in raw.split(',').map(str::trim).enumerate() {
        if item.is_empty() {
            continue;
        }
        let (id, key) = item
            .split_once(':')
            .ok_or_else(|| format!("item {} is not id:base64key", n + 1))?;
        let id: u32 = id
            .trim()
            .parse()
            .map_err(|_| format!("item {} has a key id that is not a number", n + 1))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| format!("key {id} is not valid base64"))?;
        let bytes: [u8; 32] = decoded
            .try_into()
            .map_err(|_| format!("key {id} is not 32 bytes (AES-256)"))?;
        if keys.iter().any(|k| k.id == id) {
            return Err(format!("key id {id} is listed twice"));
        }
        keys.push(TokenKey {
            id,
            bytes: secrecy::SecretBox::new(Box::new(bytes)),
        });
    }
    if keys.is_empty() {
        return Err("no key listed".into());
    }
    Ok(keys)
}

/// Parses `CONNECT_LINK_KEYS` (`kid:secret,…`, secrets at least 32
/// characters); the last listed signs.
pub fn parse_link_keys(raw: &str) -> Result<Vec<(String, SecretString)>, String> {
    let mut keys: Vec<(String, SecretString)> = Vec::new();
    for (n, item) in raw.split(',').map(str::trim).enumerate() {
        if item.is_empty() {
            continue;
        }
        let (kid, secret) = item
            .split_once(':')
            .ok_or_else(|| format!("item {} is not kid:secret", n + 1))?;
        let kid = kid.trim();
        if kid.is_empty()
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("item {} has an empty or unusual kid", n + 1));
        }
        if secret.trim().len() < 32 {
            return Err(format!("key {kid} is shorter than 32 characters"));
        }
        if keys.iter().any(|(k, _)| k == kid) {
            return Err(format!("kid {kid} is listed twice"));
        }
        keys.push((kid.to_owned(), SecretString::from(secret.trim().to_owned())));
    }
    if keys.is_empty() {
        return Err("no key listed".into());
    }
    Ok(keys)
}

pub const DEFAULT_NOTION_VERSION: &str = "2025-09-03";

/// The OAuth section: each provider's app and endpoints, with the
/// providers' public endpoints as defaults.
pub(super) fn read_oauth(r: &mut Reader<'_>) -> OAuthConfig {
    let connect_link_keys = r.secret("CONNECT_LINK_KEYS");
    if let Some(raw) = &connect_link_keys
        && let Err(why) = parse_link_keys(raw.expose_secret())
    {
        r.problem(format!("CONNECT_LINK_KEYS: {why}"));
    }
    let microsoft_tenant = r
        .plain("MICROSOFT_TENANT")
        .unwrap_or_else(|| "common".into());
    let ms_base = format!("https://login.microsoftonline.com/{microsoft_tenant}/oauth2/v2.0");
    let google = read_app(
        r,
        "GOOGLE",
        "https://accounts.google.com/o/oauth2/v2/auth".into(),
        "https://oauth2.googleapis.com/token".into(),
        Some("https://oauth2.googleapis.com/revoke"),
        Some("https://openidconnect.googleapis.com/v1/userinfo"),
        Some("https://accounts.google.com"),
    );
    let microsoft = read_app(
        r,
        "MICROSOFT",
        format!("{ms_base}/authorize"),
        format!("{ms_base}/token"),
        None,
        Some("https://graph.microsoft.com/oidc/userinfo"),
        None,
    );
    let notion = read_app(
        r,
        "NOTION",
        "https://api.notion.com/v1/oauth/authorize".into(),
        "https://api.notion.com/v1/oauth/token".into(),
        Some("https://api.notion.com/v1/oauth/revoke"),
        None,
        None,
    );
    OAuthConfig {
        connect_link_keys,
        google,
        microsoft,
        notion,
        microsoft_tenant,
        notion_version: r
            .plain("NOTION_VERSION")
            .unwrap_or_else(|| DEFAULT_NOTION_VERSION.into()),
    }
}

/// `PREFIX_CLIENT_ID`, `PREFIX_CLIENT_SECRET` and `PREFIX_*_URL`, with defaults.
fn read_app(
    r: &mut Reader<'_>,
    prefix: &str,
    authorize: String,
    token: String,
    revoke: Option<&str>,
    userinfo: Option<&str>,
    issuer: Option<&str>,
) -> ProviderApp {
    let mut url = |suffix: &str, default: Option<String>| {
        let name = format!("{prefix}_{suffix}");
        match r.plain(&name) {
            Some(v) => match validate_base_url(&v) {
                Ok(v) => Some(v),
                Err(why) => {
                    r.problem(format!("{name} {why}"));
                    None
                }
            },
            None => default,
        }
    };
    let authorize_url = url("AUTHORIZE_URL", Some(authorize)).unwrap_or_default();
    let token_url = url("TOKEN_URL", Some(token)).unwrap_or_default();
    let revoke_url = url("REVOKE_URL", revoke.map(str::to_owned));
    let userinfo_url = url("USERINFO_URL", userinfo.map(str::to_owned));
    let issuer = url("ISSUER", issuer.map(str::to_owned));
    ProviderApp {
        client_id: r.plain(&format!("{prefix}_CLIENT_ID")),
        client_secret: r.secret(&format!("{prefix}_CLIENT_SECRET")),
        authorize_url,
        token_url,
        revoke_url,
        userinfo_url,
        issuer,
    }
}
