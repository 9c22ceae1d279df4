//! Asking the user before an operation that deletes or overwrites something on the Hub.
//!
//! One helper for every such tool (`hf_fs_write` rm and overwriting puts, `hf_jobs` cancel
//! and schedule deletion): a form elicitation with one boolean, which is an `input_required`
//! round on the 2026-07-28 wire and an `elicitation/create` request in the session era — the
//! engine picks, the tool is written once. Nothing is asked when the operator turned the
//! policy off (`--confirm-destructive off`) or the client did not declare elicitation: the
//! caller then proceeds as upstream does ([`Confirmation::NotAsked`]).
//!
//! A declined or cancelled confirmation is not a tool failure: callers answer with a plain
//! result saying nothing was changed (no `isError`), so the model reports the user's choice
//! instead of retrying.

use mcp_engine::{CallError, Ctx, InputRequests};
use serde_json::{json, Value};

/// Key of the elicitation in the input round (stable across rounds of one call).
const KEY: &str = "confirm_destructive";

/// The user's answer to a confirmation, or why none was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The user accepted (and did not untick the box).
    Accepted,
    /// The user answered `decline`, or accepted with the box unticked.
    Declined,
    /// The user dismissed the request (`cancel`), or the answer was unusable.
    Cancelled,
    /// Nothing was asked: the policy is off or the client cannot be asked.
    NotAsked,
}

impl Confirmation {
    /// Whether the operation may go ahead.
    pub fn proceed(self) -> bool {
        matches!(self, Confirmation::Accepted | Confirmation::NotAsked)
    }

    /// `"declined"` / `"cancelled"` for results that report why nothing was done.
    pub fn as_str(self) -> &'static str {
        match self {
            Confirmation::Accepted => "accepted",
            Confirmation::Declined => "declined",
            Confirmation::Cancelled => "cancelled",
            Confirmation::NotAsked => "not_asked",
        }
    }
}

/// Whether [`confirm_destructive`] would ask (confirmations on and the client can answer):
/// callers skip the read that decides whether to ask when nobody would be asked.
pub fn will_ask(ctx: &Ctx, enabled: bool) -> bool {
    enabled && ctx.request().client_supports("elicitation")
}

/// Ask the user to confirm `action` (a sentence such as "Delete `config.json` from model
/// `alice/demo` on branch `main`?"). `enabled` is the operator's `--confirm-destructive`.
///
/// Stateless era: the first round ends the call with `input_required` (propagate the error
/// with `?`); the call is replayed with the answer, so everything before this point must be
/// free of side effects.
pub async fn confirm_destructive(ctx: &mut Ctx, enabled: bool, action: &str) -> Result<Confirmation, CallError> {
    if !will_ask(ctx, enabled) {
        return Ok(Confirmation::NotAsked);
    }
    let schema = json!({
        "type": "object",
        "properties": { "confirm": { "type": "boolean", "title": "Confirm", "default": true,
            "description": "Go ahead with this change" } },
        "required": ["confirm"]
    });
    let answers = ctx.request_input(InputRequests::new().elicit(KEY, action, schema)).await?;
    Ok(classify(answers.get(KEY).unwrap_or(&Value::Null)))
}

/// An elicitation result (`{action, content}`) as a [`Confirmation`].
fn classify(answer: &Value) -> Confirmation {
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
    fn answers_map_to_outcomes() {
        assert_eq!(classify(&json!({"action": "accept", "content": {"confirm": true}})), Confirmation::Accepted);
        assert_eq!(classify(&json!({"action": "accept"})), Confirmation::Accepted);
        assert_eq!(classify(&json!({"action": "accept", "content": {"confirm": false}})), Confirmation::Declined);
        assert_eq!(classify(&json!({"action": "decline"})), Confirmation::Declined);
        assert_eq!(classify(&json!({"action": "cancel"})), Confirmation::Cancelled);
        assert_eq!(classify(&Value::Null), Confirmation::Cancelled);
        assert!(Confirmation::NotAsked.proceed() && !Confirmation::Declined.proceed());
    }
}
