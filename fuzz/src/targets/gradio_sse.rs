//! The SSE framing of a Space's answer and the JSON-RPC message of each event, as the
//! proxy reads them (`gradio::frames`). Input: one byte choosing where the body is cut
//! into chunks, then the body. Invariants: no panic; the events (or the refusal) do not
//! depend on how the body arrived in chunks; every event classifies without panicking.

use hubmcp_hub::gradio::frames::{classify, EventDecoder, Malformed, Message};

use crate::Target;

pub const TARGET: Target = Target {
    name: "gradio_sse",
    about: "SSE framing of an upstream Space response and the JSON-RPC message of each event",
    run,
    dictionary: &[
        "data: ",
        "data:",
        "event: message\n",
        "id: 1\n",
        ": keep-alive\n\n",
        "\r\n",
        "\n\n",
        "\r",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1,\"total\":2}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"error\":{\"code\":-32000,\"message\":\"x\"}}",
        "\"id\":1",
        "\"id\":\"1\"",
        "\u{e9}",
        "\u{ff}",
    ],
};

fn events(chunks: &[&[u8]]) -> Result<Vec<String>, Malformed> {
    let mut decoder = EventDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        while let Some(e) = decoder.next_event()? {
            out.push(e);
        }
    }
    Ok(out)
}

fn run(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else { return };
    let whole = events(&[body]);
    // Cut at a position and into chunks of a size, both taken from the first byte.
    let at = if body.is_empty() { 0 } else { usize::from(cut) % (body.len() + 1) };
    assert_eq!(events(&[&body[..at], &body[at..]]), whole, "cut at {at}");
    let size = usize::from(cut % 7) + 1;
    let chunks: Vec<&[u8]> = body.chunks(size).collect();
    assert_eq!(events(&chunks), whole, "chunks of {size}");
    let Ok(list) = whole else { return };
    for e in &list {
        match classify(e, "1") {
            // Passed through raw: valid JSON text (numbers beyond f64, such as -1e309,
            // included), not necessarily a serde_json::Value.
            Ok(Message::Reply(r)) => {
                assert!(serde_json::from_str::<Box<serde_json::value::RawValue>>(r.get()).is_ok())
            }
            Ok(Message::Error(m)) => assert!(m.chars().count() <= 500),
            Ok(Message::Progress(_) | Message::Other) | Err(Malformed) => {}
        }
    }
}
