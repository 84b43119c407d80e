//! SCRAM-SHA-256 password verifiers, computed on our side (RFC 5802,
//! RFC 7677, in PostgreSQL's `rolpassword` format).
//!
//! `ALTER ROLE … PASSWORD '<plain>'` puts the password in the statement
//! text, which reaches the server log whenever statement logging is on.
//! Sending the verifier instead means the password itself never leaves
//! this process; PostgreSQL stores a value in this format as it is.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// PostgreSQL's own default (`scram_iterations`).
pub const ITERATIONS: u32 = 4096;

/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for
/// `password`, with a fresh random 16-byte salt.
pub fn verifier(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    verifier_with(password, &salt, ITERATIONS)
}

/// The verifier for a given salt and iteration count.
pub fn verifier_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let (stored_key, server_key) = keys(password, salt, iterations);
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

/// (StoredKey, ServerKey).
fn keys(password: &str, salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    let salted = salted_password(password, salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    (stored_key, hmac(&salted, b"Server Key"))
}

/// `Hi(Normalize(password), salt, i)`: PBKDF2-HMAC-SHA-256 with one
/// output block. PostgreSQL normalises with SASLprep and, like it, we use
/// the raw bytes when SASLprep refuses the password.
fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let normalised = stringprep::saslprep(password);
    let bytes = match &normalised {
        Ok(p) => p.as_bytes(),
        Err(_) => password.as_bytes(),
    };
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(bytes, &first);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(bytes, &u);
        for (o, b) in out.iter_mut().zip(u.iter()) {
            *o ^= b;
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's example exchange: deriving its client proof and server
    /// signature from our keys proves Hi, ClientKey, StoredKey, ServerKey.
    #[test]
    fn matches_the_rfc_7677_exchange() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password("pencil", &salt, 4096);
        let client_key = hmac(&salted, b"Client Key");
        let (stored_key, server_key) = keys("pencil", &salt, 4096);
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let client_signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(client_signature.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            STANDARD.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            STANDARD.encode(hmac(&server_key, auth_message.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn verifier_has_postgres_format_and_no_password() {
        let v = verifier("hunter2-s3cret");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("hunter2"));
        let parts: Vec<&str> = v.split(['$', ':']).collect();
        assert_eq!(parts.len(), 5, "{v}");
        assert_ne!(verifier("hunter2-s3cret"), v, "salt must be random");
    }
}
