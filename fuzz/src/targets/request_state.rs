//! Opening `requestState`, which the client echoes back verbatim. Input: a mode byte,
//! then either a state as a client could send it, or payload bytes sealed with the real
//! key (reaching the checks behind the MAC, which a forged state never passes), or a
//! round trip of fuzzed method/target/state through `seal`. Invariants: no panic; a
//! forged state never opens; what was sealed opens to itself, and only for its binding.

use std::time::Duration;

use mcp_engine::{JsonObject, Sealer};
use serde_json::Value;

use crate::Target;

pub const TARGET: Target = Target {
    name: "request_state",
    about: "requestState opening: forged states, MAC-valid payloads, seal/open round trips",
    run,
    dictionary: &[
        ".",
        "\"v\":1",
        "\"m\":\"tools/call\"",
        "\"t\":\"t\"",
        "\"c\":\"anonymous\"",
        "\"e\":99999999999",
        "\"e\":18446744073709551615",
        "\"s\":",
        "\"a\":{",
        "{\"v\":1,\"m\":\"tools/call\",\"t\":\"t\",\"c\":\"anonymous\",\"e\":9999999999}",
        "\u{0}",
    ],
};

fn sealer() -> Sealer {
    Sealer::new(b"hubmcp fuzz", Duration::from_secs(600))
}

fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let s = sealer();
    match mode % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            assert!(s.open(&text, "tools/call", "t", "anonymous").is_err(), "a forged state opened");
        }
        1 => {
            let sealed = s.seal_bytes(rest);
            if let Ok(opened) = s.open(&sealed, "tools/call", "t", "anonymous") {
                // Only a payload bound to exactly this request may open.
                // serde skips unknown fields without checking their UTF-8: read leniently.
                let Ok(v) = serde_json::from_str::<Value>(&String::from_utf8_lossy(rest)) else { return };
                // serde reads a struct from an object or, positionally, from an array.
                let field = |name: &str, i: usize| v.get(name).or_else(|| v.get(i)).cloned();
                assert_eq!(field("m", 1), Some("tools/call".into()), "{v}");
                assert_eq!(field("t", 2), Some("t".into()), "{v}");
                assert_eq!(field("c", 3), Some("anonymous".into()), "{v}");
                drop(opened);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let mut parts = text.splitn(3, '\n');
            let (target, caller) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let state: Option<Value> = parts.next().and_then(|j| serde_json::from_str(j).ok());
            let mut answers = JsonObject::new();
            if let Some(Value::Object(o)) = &state {
                answers = o.clone();
            }
            let sealed = s.seal("tools/call", target, caller, state.clone(), answers.clone());
            let opened = s.open(&sealed, "tools/call", target, caller).expect("a fresh seal opens");
            assert!(same(opened.state.as_ref().unwrap_or(&Value::Null), state.as_ref().unwrap_or(&Value::Null)));
            assert!(same(&Value::Object(opened.answers), &Value::Object(answers)));
            assert!(s.open(&sealed, "prompts/get", target, caller).is_err());
            assert!(s.open(&sealed, "tools/call", &format!("{target}x"), caller).is_err());
        }
    }
}

/// Equal, numbers within a relative 1e-15: serde_json's default float parsing (no
/// `float_roundtrip`) may land one ULP away near the ends of the f64 range (1.011e308).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => (x - y).abs() <= 1e-15 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
