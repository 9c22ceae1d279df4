//! Per-instance figures for the cluster dashboard: each instance publishes a small JSON
//! blob under `{prefix}inst:{id}` with a TTL (so a dead instance drops off on its own), and
//! any instance can list them all. Ages are measured on Redis' clock.

use std::time::Duration;

use mcp_engine::store::StoreError;

use crate::client::RedisClient;
use crate::scripts::SCRIPTS;

/// Keys examined per `SCAN` step.
const SCAN_COUNT: usize = 200;

/// Store this instance's figures for `ttl`.
pub async fn publish_instance(
    client: &RedisClient,
    instance_id: &str,
    json: &[u8],
    ttl: Duration,
) -> Result<(), StoreError> {
    let mut c = client.conn();
    let mut inv = SCRIPTS.publish_instance.prepare_invoke();
    inv.key(client.key(&format!("inst:{instance_id}"))).arg(json).arg((ttl.as_millis() as u64).max(1));
    client.run::<i64>("publish instance", inv.invoke_async(&mut c)).await.map(|_| ())
}

/// Every live instance's figures: `(id, bytes, age in ms)`, sorted by id. Uses `SCAN`
/// (never `KEYS`), so it does not block Redis however many keys there are.
pub async fn instances(client: &RedisClient) -> Result<Vec<(String, Vec<u8>, u64)>, StoreError> {
    let prefix = client.key("inst:");
    let pattern = format!("{}*", glob_escape(&prefix));
    let mut c = client.conn();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let cmd = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(SCAN_COUNT).to_owned();
        let (next, batch): (u64, Vec<String>) = client.run("scan instances", cmd.query_async(&mut c)).await?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    keys.sort();
    keys.dedup();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut inv = SCRIPTS.read_instance.prepare_invoke();
        inv.key(&key);
        let v: Option<(Vec<u8>, i64)> = client.run("read instance", inv.invoke_async(&mut c)).await?;
        if let (Some((data, age)), Some(id)) = (v, key.strip_prefix(&prefix)) {
            out.push((id.to_owned(), data, age.max(0) as u64));
        }
    }
    Ok(out)
}

/// Escape Redis glob metacharacters so a prefix matches only itself.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_escape_escapes_metacharacters() {
        assert_eq!(super::glob_escape("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:");
    }
}
