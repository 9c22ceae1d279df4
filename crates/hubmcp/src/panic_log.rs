//! Panics go to the log, scrubbed. The default hook prints the raw panic message to
//! stderr, outside the log format and with whatever the message holds; this one logs it
//! as an ERROR event (JSON when the log is JSON) after replacing this process's secrets
//! (`HF_TOKEN`, the state key, the Redis password, the metrics password) and anything
//! shaped like a bearer token or a Hugging Face token with `<redacted>`. The engine
//! answers the panicking request with a bare -32603; the text never reaches a client.

/// Replace the panic hook. `secrets` are literal values never to print.
pub fn install(secrets: Vec<String>) {
    let secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(target: "hubmcp::panic", location, "panic: {}", scrub(&message, &secrets));
    }));
}

/// `text` without the given secrets, `Bearer …` credentials or `hf_…` tokens.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        out = out.replace(s.as_str(), "<redacted>");
    }
    let mut cleaned = String::with_capacity(out.len());
    let mut words = out.split_inclusive(char::is_whitespace).peekable();
    while let Some(word) = words.next() {
        let bare = word.trim_end();
        if bare.eq_ignore_ascii_case("bearer") {
            cleaned.push_str(word);
            if let Some(token) = words.next() {
                cleaned.push_str("<redacted>");
                cleaned.push_str(&token[token.trim_end().len()..]);
            }
            continue;
        }
        match bare.find("hf_") {
            Some(i) if bare[i + 3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count() >= 8 => {
                let end = i + 3 + bare[i + 3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count();
                cleaned.push_str(&bare[..i]);
                cleaned.push_str("<redacted>");
                cleaned.push_str(&word[end..]);
            }
            _ => cleaned.push_str(word),
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_bearers_and_hf_tokens_are_scrubbed() {
        let secrets = vec!["redis-pw-1234".to_owned()];
        let text = "failed: redis://:redis-pw-1234@h Authorization: Bearer abc.def.ghi, token=hf_AbCdEfGhIjKl! ok hf_x";
        let s = scrub(text, &secrets);
        for leaked in ["redis-pw-1234", "abc.def.ghi", "hf_AbCdEfGhIjKl"] {
            assert!(!s.contains(leaked), "{leaked} in {s}");
        }
        assert!(s.contains("failed:") && s.contains("! ok hf_x"), "{s}");
    }
}
