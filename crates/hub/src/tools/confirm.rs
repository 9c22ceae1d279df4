//! Asking the user before an operation that deletes or overwrites: one form elicitation
//! through `ctx.request_input` — an `input_required` round on the 2026-07-28 wire, a
//! server-initiated `elicitation/create` in the session era, a question on the task inside
//! a task. Not asked when the policy is off (`--confirm-destructive off`) or the client did
//! not declare the elicitation capability; the tool then goes ahead, as upstream does.

use mcp_engine::{CallError, Ctx, InputRequests};
use serde_json::{json, Value};

/// The key of the question in `inputRequests` / `inputResponses`.
const KEY: &str = "confirm_destructive";

/// What the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Accepted with `confirm: true` (or without the field).
    Accepted,
    /// Declined, or accepted with `confirm: false`.
    Declined,
    /// Dismissed without a choice.
    Cancelled,
    /// Not asked: the policy is off or the client cannot be asked.
    NotAsked,
}

/// Ask the user to confirm `action` (a sentence naming what will be deleted or overwritten).
pub async fn confirm_destructive(ctx: &mut Ctx, enabled: bool, action: &str) -> Result<Confirmation, CallError> {
    if !enabled || !ctx.request().client_supports("elicitation") {
        return Ok(Confirmation::NotAsked);
    }
    let schema = json!({
        "type": "object",
        "properties": { "confirm": { "type": "boolean", "title": "Confirm", "default": false,
            "description": "Go ahead: this cannot be undone" } },
        "required": ["confirm"]
    });
    let message = format!("{action}\n\nThis cannot be undone. Go ahead?");
    let answers = ctx.request_input(InputRequests::new().elicit(KEY, message, schema)).await?;
    Ok(read_answer(answers.get(KEY).unwrap_or(&Value::Null)))
}

fn read_answer(answer: &Value) -> Confirmation {
    match answer.get("action").and_then(Value::as_str) {
        Some("accept") => match answer.get("content").and_then(|c| c.get("confirm")).and_then(Value::as_bool) {
            Some(false) => Confirmation::Declined,
            _ => Confirmation::Accepted,
        },
        Some("decline") => Confirmation::Declined,
        _ => Confirmation::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(read_answer(&json!({ "action": "accept", "content": { "confirm": true } })), Confirmation::Accepted);
        assert_eq!(
            read_answer(&json!({ "action": "accept", "content": { "confirm": false } })),
            Confirmation::Declined
        );
        assert_eq!(read_answer(&json!({ "action": "decline" })), Confirmation::Declined);
        assert_eq!(read_answer(&json!({ "action": "cancel" })), Confirmation::Cancelled);
        assert_eq!(read_answer(&Value::Null), Confirmation::Cancelled);
    }
}
