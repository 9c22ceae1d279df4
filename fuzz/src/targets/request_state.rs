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
        ".", "\"v\":1", "\"m\":\"tools/call\"", "\"t\":\"t\"", "\"c\":\"anonymous\"", "\"e\":99999999999",
        "\"e\":18446744073709551615", "\"s\":", "\"a\":{", "{\"v\":1,\"m\":\"tools/call\",\"t\":\"t\",\"c\":\"anonymous\",\"e\":9999999999}",
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
                let v: Value = serde_json::from_slice(rest).expect("an opened payload is JSON");
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
            // Compared as they travel: through JSON text once more.
            let through_json = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).expect("JSON");
            assert_eq!(opened.state.as_ref().map(through_json), state.as_ref().map(through_json));
            assert_eq!(through_json(&Value::Object(opened.answers)), through_json(&Value::Object(answers)));
            assert!(s.open(&sealed, "prompts/get", target, caller).is_err());
            assert!(s.open(&sealed, "tools/call", &format!("{target}x"), caller).is_err());
        }
    }
}
