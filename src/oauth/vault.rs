//! The token vault: AES-256-GCM with a fresh random 96-bit nonce per seal.
//!
//! The associated data binds each ciphertext to its person, provider, key id
//! and purpose (access token, refresh token, PKCE verifier), so a value
//! copied to another row, another person or another column does not
//! decrypt. Keys come from `TOKEN_ENCRYPTION_KEYS`: the highest id seals,
//! every listed id opens, and a value sealed with a key no longer listed
//! fails closed ([`VaultError::UnknownKey`]).
//!
//! Nothing here prints a token or a key: plaintexts are [`SecretString`],
//! errors carry no bytes, and `Debug` shows key ids only.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::Provider;
use crate::config::parse_token_keys;

/// What a sealed value is; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    AccessToken,
    RefreshToken,
    PkceVerifier,
}

impl Purpose {
    fn tag(self) -> &'static [u8] {
        match self {
            Purpose::AccessToken => b"access",
            Purpose::RefreshToken => b"refresh",
            Purpose::PkceVerifier => b"pkce",
        }
    }
}

/// A sealed value as stored: the key that sealed it, its nonce, and the
/// ciphertext with the GCM tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: u32,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    /// `TOKEN_ENCRYPTION_KEYS` is unset or invalid.
    #[error("token encryption keys: {0}")]
    Keys(String),
    /// Sealed with a key that is no longer listed (retired): fail closed.
    #[error("sealed with key {0}, which is not configured")]
    UnknownKey(u32),
    /// Wrong person, provider, purpose or key, or altered bytes.
    #[error("sealed value does not open here")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// Seals and opens tokens. Cheap to clone (keys are behind an `Arc`).
#[derive(Clone)]
pub struct Vault {
    keys: std::sync::Arc<BTreeMap<u32, Aes256Gcm>>,
    current: u32,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

impl Vault {
    /// From `TOKEN_ENCRYPTION_KEYS` (`id:base64key,…`).
    pub fn from_config(raw: &SecretString) -> Result<Self, VaultError> {
        let parsed = parse_token_keys(raw.expose_secret()).map_err(VaultError::Keys)?;
        let mut keys = BTreeMap::new();
        for key in parsed {
            let cipher = Aes256Gcm::new_from_slice(key.bytes.expose_secret())
                .map_err(|_| VaultError::Keys(format!("key {} is not 32 bytes", key.id)))?;
            keys.insert(key.id, cipher);
        }
        let current = *keys
            .keys()
            .next_back()
            .ok_or_else(|| VaultError::Keys("no key listed".into()))?;
        Ok(Self {
            keys: std::sync::Arc::new(keys),
            current,
        })
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// Seals `plaintext` for this person, provider and purpose with the
    /// current key and a fresh random nonce.
    pub fn seal(
        &self,
        user: Uuid,
        provider: Provider,
        purpose: Purpose,
        plaintext: &SecretString,
    ) -> Result<Sealed, VaultError> {
        let cipher = &self.keys[&self.current];
        let nonce = Nonce::generate();
        let aad = associated_data(user, provider, self.current, purpose);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        Ok(Sealed {
            key_id: self.current,
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a value sealed for exactly this person, provider and purpose.
    pub fn open(
        &self,
        user: Uuid,
        provider: Provider,
        purpose: Purpose,
        sealed: &Sealed,
    ) -> Result<SecretString, VaultError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or(VaultError::UnknownKey(sealed.key_id))?;
        let nonce = Nonce::try_from(sealed.nonce.as_slice()).map_err(|_| VaultError::Open)?;
        let aad = associated_data(user, provider, sealed.key_id, purpose);
        let plain = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Open)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| VaultError::Open)
    }

    /// Opens with whatever key sealed it and seals again with the current
    /// key; `None` when it already uses the current key (rotation is
    /// idempotent: rerunning it never wraps twice).
    pub fn reseal(
        &self,
        user: Uuid,
        provider: Provider,
        purpose: Purpose,
        sealed: &Sealed,
    ) -> Result<Option<Sealed>, VaultError> {
        if sealed.key_id == self.current {
            return Ok(None);
        }
        let plain = self.open(user, provider, purpose, sealed)?;
        self.seal(user, provider, purpose, &plain).map(Some)
    }
}

/// person id (16 bytes) ‖ provider ‖ key id (4 bytes, big-endian) ‖ purpose,
/// each variable-length part preceded by its length so no two different
/// contexts produce the same bytes.
fn associated_data(user: Uuid, provider: Provider, key_id: u32, purpose: Purpose) -> Vec<u8> {
    let provider = provider.as_str().as_bytes();
    let purpose = purpose.tag();
    let mut aad = Vec::with_capacity(16 + 1 + provider.len() + 4 + 1 + purpose.len());
    aad.extend_from_slice(b"nudge-oauth-v1");
    aad.extend_from_slice(user.as_bytes());
    aad.push(provider.len() as u8);
    aad.extend_from_slice(provider);
    aad.extend_from_slice(&key_id.to_be_bytes());
    aad.push(purpose.len() as u8);
    aad.extend_from_slice(purpose);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const CANARY: &str = "ya29.CANARY-token-d0-not-leak";

    fn key(id: u32, byte: u8) -> String {
        format!(
            "{id}:{}",
            base64::engine::general_purpose::STANDARD.encode([byte; 32])
        )
    }

    fn vault(spec: &[(u32, u8)]) -> Vault {
        let raw: Vec<String> = spec.iter().map(|&(id, b)| key(id, b)).collect();
        Vault::from_config(&SecretString::from(raw.join(","))).unwrap()
    }

    #[test]
    fn seals_and_opens_with_a_fresh_nonce_each_time() {
        let v = vault(&[(1, 7)]);
        let user = Uuid::new_v4();
        let secret = SecretString::from(CANARY);
        let a = v
            .seal(user, Provider::Google, Purpose::AccessToken, &secret)
            .unwrap();
        let b = v
            .seal(user, Provider::Google, Purpose::AccessToken, &secret)
            .unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(a.nonce.len(), 12);
        assert!(
            !a.ciphertext
                .windows(5)
                .any(|w| w == &CANARY.as_bytes()[..5])
        );
        let opened = v
            .open(user, Provider::Google, Purpose::AccessToken, &a)
            .unwrap();
        assert_eq!(opened.expose_secret(), CANARY);
    }

    /// 10,000 attempts, each changing one part of the context (person,
    /// provider, key id, purpose) or one bit of the stored value: none opens.
    #[test]
    fn ten_thousand_wrong_contexts_never_open() {
        let v = vault(&[(1, 1), (2, 2), (3, 3)]);
        let owner = Uuid::new_v4();
        let sealed = v
            .seal(
                owner,
                Provider::Notion,
                Purpose::RefreshToken,
                &SecretString::from(CANARY),
            )
            .unwrap();
        assert_eq!(sealed.key_id, 3);
        let mut opened = 0;
        for i in 0..10_000u32 {
            let mut user = owner;
            let mut provider = Provider::Notion;
            let mut purpose = Purpose::RefreshToken;
            let mut value = sealed.clone();
            match i % 5 {
                0 => user = Uuid::new_v4(),
                1 => provider = [Provider::Google, Provider::Microsoft][(i / 5 % 2) as usize],
                2 => value.key_id = 1 + (i / 5 % 2), // another configured key
                3 => purpose = [Purpose::AccessToken, Purpose::PkceVerifier][(i / 5 % 2) as usize],
                _ => {
                    let bit = (i / 5) as usize % (value.ciphertext.len() * 8);
                    value.ciphertext[bit / 8] ^= 1 << (bit % 8);
                }
            }
            if v.open(user, provider, purpose, &value).is_ok() {
                opened += 1;
            }
        }
        assert_eq!(opened, 0);
        // The untouched value still opens: the failures above are the context's.
        assert!(
            v.open(owner, Provider::Notion, Purpose::RefreshToken, &sealed)
                .is_ok()
        );
    }

    #[test]
    fn highest_id_seals_every_listed_id_opens_a_retired_one_fails_closed() {
        let old = vault(&[(1, 1)]);
        let both = vault(&[(2, 2), (1, 1)]);
        let new_only = vault(&[(2, 2)]);
        let user = Uuid::new_v4();
        let s = SecretString::from(CANARY);
        let sealed_old = old
            .seal(user, Provider::Google, Purpose::AccessToken, &s)
            .unwrap();
        assert_eq!(both.current_key_id(), 2);
        let resealed = both
            .reseal(user, Provider::Google, Purpose::AccessToken, &sealed_old)
            .unwrap()
            .unwrap();
        assert_eq!(resealed.key_id, 2);
        // Rerunning the rotation on the new value changes nothing.
        assert_eq!(
            both.reseal(user, Provider::Google, Purpose::AccessToken, &resealed)
                .unwrap(),
            None
        );
        assert_eq!(
            new_only
                .open(user, Provider::Google, Purpose::AccessToken, &sealed_old)
                .unwrap_err(),
            VaultError::UnknownKey(1)
        );
        assert!(
            new_only
                .open(user, Provider::Google, Purpose::AccessToken, &resealed)
                .is_ok()
        );
    }

    #[test]
    fn bad_key_lists_are_refused_without_echoing_them() {
        for raw in [
            "",
            "1",
            "x:AAAA",
            "1:not base64!",
            "1:AAAA",
            &format!("{},{}", key(1, 1), key(1, 2)),
        ] {
            let err = Vault::from_config(&SecretString::from(raw.to_owned())).unwrap_err();
            assert!(matches!(err, VaultError::Keys(_)), "{raw}: {err:?}");
        }
        let err =
            Vault::from_config(&SecretString::from("1:c2VjcmV0LWtleS1ieXRlcw==")).unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
    }

    /// A canary token goes through every type here; no `Debug` or error shows it.
    #[test]
    fn debug_and_errors_never_show_a_token_or_key() {
        let raw = key(9, 0x41);
        let v = Vault::from_config(&SecretString::from(raw.clone())).unwrap();
        let user = Uuid::new_v4();
        let secret = SecretString::from(CANARY);
        let sealed = v
            .seal(user, Provider::Microsoft, Purpose::AccessToken, &secret)
            .unwrap();
        let opened = v
            .open(user, Provider::Microsoft, Purpose::AccessToken, &sealed)
            .unwrap();
        let err = v
            .open(
                Uuid::new_v4(),
                Provider::Microsoft,
                Purpose::AccessToken,
                &sealed,
            )
            .unwrap_err();
        let shown = format!("{v:?} {sealed:?} {opened:?} {secret:?} {err:?} {err}");
        let key_b64 = raw.split_once(':').unwrap().1;
        for leak in [CANARY, "CANARY", key_b64] {
            assert!(!shown.contains(leak), "{leak} in {shown}");
        }
        assert!(shown.contains("key_ids"), "{shown}");
    }
}
