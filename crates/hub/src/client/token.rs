//! The HF access token newtype. Its value is never printed.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

/// A Hugging Face access token (`hf_...`).
///
/// `Debug` and `Display` never show the value; use [`Token::expose_secret`] only where the raw
/// value is genuinely needed. Cloning is cheap.
#[derive(Clone)]
pub struct Token(Arc<str>);

/// Why a string was rejected as a token. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("the HF token is empty")]
    Empty,
    #[error("the HF token contains whitespace or non-printable characters")]
    BadCharacters,
    #[error("the HF token is too long")]
    TooLong,
}

impl Token {
    /// Validate and wrap a token (surrounding whitespace is trimmed).
    pub fn new(value: impl AsRef<str>) -> Result<Token, InvalidToken> {
        let v = value.as_ref().trim();
        if v.is_empty() {
            return Err(InvalidToken::Empty);
        }
        if v.len() > 4096 {
            return Err(InvalidToken::TooLong);
        }
        if !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidToken::BadCharacters);
        }
        Ok(Token(Arc::from(v)))
    }

    /// Read a token from the environment variable `name` (e.g. `HF_TOKEN`).
    /// Unset or empty variables give `Ok(None)`.
    pub fn from_env_var(name: &str) -> Result<Option<Token>, InvalidToken> {
        match std::env::var(name) {
            Ok(v) if v.trim().is_empty() => Ok(None),
            Ok(v) => Token::new(v).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The raw token value. Do not log or format it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// `Authorization: Bearer <token>` value, marked sensitive so HTTP tooling does not log it.
    pub(crate) fn authorization_header(&self) -> HeaderValue {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", self.0)).expect("token validated as visible ASCII");
        v.set_sensitive(true);
        v
    }

    /// Remove any occurrence of the token from `text` (defence in depth for error messages).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if text.contains(&*self.0) {
            text.replace(&*self.0, "[REDACTED]")
        } else {
            text.to_string()
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted HF token>")
    }
}

impl TryFrom<String> for Token {
    type Error = InvalidToken;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Token::new(value)
    }
}

impl TryFrom<&str> for Token {
    type Error = InvalidToken;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Token::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_value() {
        let t = Token::new("  hf_supersecret123  ").unwrap();
        assert_eq!(t.expose_secret(), "hf_supersecret123");
        assert!(!format!("{t:?}").contains("supersecret"));
        assert!(!format!("{t}").contains("supersecret"));
        assert!(!format!("{:?}", Some(t.clone())).contains("supersecret"));
        assert_eq!(t.scrub("x hf_supersecret123 y"), "x [REDACTED] y");
        assert!(t.authorization_header().is_sensitive());
    }

    #[test]
    fn rejects_bad_tokens() {
        assert_eq!(Token::new("   ").unwrap_err(), InvalidToken::Empty);
        assert_eq!(Token::new("hf_a b").unwrap_err(), InvalidToken::BadCharacters);
        assert_eq!(Token::new("hf_\u{e9}").unwrap_err(), InvalidToken::BadCharacters);
    }
}
