//! Who may write where, as the Hub decides it: a token must be sent (401), must carry write
//! rights — role `write`, or a fine-grained token with the permission in scope for the
//! namespace (403 naming what is missing) — and the namespace must be the user's own or an
//! organization where the user is `admin` or `write` (403).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::util::hub_error;
use crate::Caller;

/// `Ok` when `caller` may use `permission` (e.g. `repo.write`) in `namespace`.
pub(crate) fn check_write(caller: &Caller, namespace: &str, permission: &str) -> Result<(), Response> {
    let Caller::User(user, token) = caller else {
        return Err(hub_error(StatusCode::UNAUTHORIZED, None, "You must be authenticated to perform this action."));
    };
    let access = token.auth.get("accessToken").unwrap_or(&Value::Null);
    match access.get("role").and_then(Value::as_str) {
        Some("write") => {}
        Some("fineGrained") => {
            let scoped = access
                .get("fineGrained")
                .and_then(|f| f.get("scoped"))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let granted = scoped.iter().any(|s| {
                s.get("entity").and_then(|e| e.get("name")).and_then(Value::as_str) == Some(namespace)
                    && s.get("permissions")
                        .and_then(Value::as_array)
                        .is_some_and(|p| p.iter().any(|p| p.as_str() == Some(permission)))
            });
            if !granted {
                return Err(hub_error(
                    StatusCode::FORBIDDEN,
                    None,
                    &format!("This fine-grained token is missing the permission {permission} on {namespace}."),
                ));
            }
        }
        role => {
            return Err(hub_error(
                StatusCode::FORBIDDEN,
                None,
                &format!(
                    "This action requires a token with write access; this token has the role '{}'.",
                    role.unwrap_or("unknown")
                ),
            ))
        }
    }
    let own = user.name == namespace;
    let org_writer = user.whoami.get("orgs").and_then(Value::as_array).is_some_and(|orgs| {
        orgs.iter().any(|o| {
            o.get("name").and_then(Value::as_str) == Some(namespace)
                && matches!(o.get("roleInOrg").and_then(Value::as_str), Some("admin" | "write"))
        })
    });
    if own || org_writer {
        Ok(())
    } else {
        Err(hub_error(
            StatusCode::FORBIDDEN,
            None,
            &format!("You don't have the rights to write in the namespace {namespace}."),
        ))
    }
}

/// The namespace `me` stands for: the caller's user name.
pub(crate) fn namespace_of<'a>(caller: &'a Caller, namespace: &'a str) -> &'a str {
    match (namespace, caller.user()) {
        ("me", Some(u)) => &u.name,
        _ => namespace,
    }
}
