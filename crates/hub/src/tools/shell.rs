//! The shell every Hub tool runs in: the caller's token goes in (for the Hub only), and any
//! trace of it is scrubbed from what comes out, since upstream text is echoed to the model.

use std::future::Future;
use std::sync::Arc;

use mcp_engine::provider::{Tool, ToolOutput};
use mcp_engine::Ctx;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::args::{invalid_args, parse_args};
use crate::client::HubClient;

/// The shell of a Hub tool that needs only its arguments and the caller's token: parse the
/// arguments (a failure is an `isError` result), run, and scrub the token from the output.
pub fn hub_tool<A, F, Fut>(definition: Value, client: HubClient, run: F) -> Tool
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(HubClient, Option<Arc<str>>, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ToolOutput> + Send + 'static,
{
    let run = Arc::new(run);
    Tool::new(definition, move |args, ctx: Ctx| {
        let (client, run) = (client.clone(), run.clone());
        async move {
            let token = token_of(&ctx);
            let out = match parse_args::<A>(&args) {
                Err(e) => invalid_args(e),
                Ok(a) => run(client, token.clone(), a).await,
            };
            Ok(scrub(out, token.as_deref()))
        }
    })
}

/// The caller's Hub token, if any (never log or format it).
pub fn token_of(ctx: &Ctx) -> Option<Arc<str>> {
    ctx.request().caller.bearer.clone()
}

/// Remove every occurrence of the token from a result (defence in depth: the tools never
/// format it, but upstream text is echoed and must not be able to leak it).
pub fn scrub(mut output: ToolOutput, token: Option<&str>) -> ToolOutput {
    let Some(token) = token.filter(|t| t.len() >= 4) else { return output };
    if let ToolOutput::Result(obj) = &mut output {
        for v in obj.values_mut() {
            scrub_value(v, token);
        }
    }
    output
}

fn scrub_value(v: &mut Value, token: &str) {
    match v {
        Value::String(s) if s.contains(token) => *s = s.replace(token, "[redacted]"),
        Value::Array(a) => a.iter_mut().for_each(|v| scrub_value(v, token)),
        Value::Object(o) => o.values_mut().for_each(|v| scrub_value(v, token)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing() {
        let out = ToolOutput::text("token hf_secret_123 leaked");
        let ToolOutput::Result(o) = scrub(out, Some("hf_secret_123")) else { panic!() };
        assert!(!o["content"].to_string().contains("hf_secret_123"));
    }
}
