//! Placeholder until the signature module lands.
pub fn compute_signature(_auth_token: &str, _url: &str, _params: &[(String, String)]) -> String {
    String::new()
}
pub fn verify_signature(_t: &str, _u: &str, _p: &[(String, String)], _s: &str) -> bool {
    false
}
