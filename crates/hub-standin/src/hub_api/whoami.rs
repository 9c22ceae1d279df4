//! `GET /api/whoami-v2`: the caller's user document and token details, 401 without a known token.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::util::{hub_error, ok_json};
use crate::{Caller, Ctx};

pub(super) fn whoami(ctx: &Ctx<'_>) -> Response {
    match ctx.caller {
        Caller::User(u, t) => {
            let mut body = u.whoami.clone();
            body.insert("auth".into(), t.auth.clone());
            ok_json(&Value::Object(body))
        }
        _ => hub_error(StatusCode::UNAUTHORIZED, None, "Invalid username or password."),
    }
}
