//! Tool arguments: parsed from the call's raw JSON, with a refusal the model can act on.

use mcp_engine::provider::{Arguments, ToolOutput};
use serde::de::DeserializeOwned;

/// Parse tool arguments; a failure is a message for an `isError` result.
pub fn parse_args<T: DeserializeOwned>(args: &Arguments) -> Result<T, String> {
    let raw = args.get().trim();
    let raw = if raw.is_empty() || raw == "null" { "{}" } else { raw };
    serde_json::from_str(raw).map_err(|e| {
        let msg = e.to_string();
        // serde's "at line 1 column 42" is noise for a model.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        format!("Invalid arguments: {msg}.")
    })
}

/// The `isError` result for invalid arguments.
pub fn invalid_args(message: impl AsRef<str>) -> ToolOutput {
    ToolOutput::error(format!(
        "{}\nRetry: not with the same arguments; correct them as the tool's input schema describes.",
        message.as_ref()
    ))
}
