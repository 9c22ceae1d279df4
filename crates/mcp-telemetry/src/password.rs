//! The dashboard password: `/metrics`, `/api` and `/dashboard` accept it as HTTP Basic
//! (any user name) or as a bearer; only its SHA-256 is kept, compared in constant time.

use sha2::{Digest, Sha256};

use crate::Telemetry;

impl Telemetry {
    pub fn password_required(&self) -> bool {
        self.inner.password.is_some()
    }

    /// Does this `Authorization` header carry the password (Basic with any user name, or
    /// Bearer)? Compared in constant time, as digests.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = &self.inner.password else { return true };
        let Some(value) = authorization.map(str::trim) else { return false };
        let candidate: Vec<u8> = if let Some(b) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))
        {
            use base64::Engine as _;
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b.trim()) else { return false };
            match decoded.iter().position(|&c| c == b':') {
                Some(i) => decoded[i + 1..].to_vec(),
                None => return false,
            }
        } else if let Some(t) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
            t.trim().as_bytes().to_vec()
        } else {
            return false;
        };
        let got: [u8; 32] = Sha256::digest(&candidate).into();
        got.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use crate::{Telemetry, TelemetryConfig};

    #[test]
    fn password_is_checked_as_basic_or_bearer() {
        let t = Telemetry::new(TelemetryConfig { password: Some("s3cret".into()), ..TelemetryConfig::default() });
        use base64::Engine as _;
        let basic = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
        assert!(t.authorized(Some(&basic("admin:s3cret"))));
        assert!(t.authorized(Some(&basic(":s3cret"))));
        assert!(t.authorized(Some("Bearer s3cret")));
        assert!(!t.authorized(Some(&basic("admin:wrong"))));
        assert!(!t.authorized(Some("Bearer s3cre")));
        assert!(!t.authorized(None));
        assert!(Telemetry::default().authorized(None));
        assert!(!format!("{:?}", TelemetryConfig { password: Some("s3cret".into()), ..Default::default() })
            .contains("s3cret"));
    }
}
