//! Cluster figures: instances publish with a TTL and are listed with their age.

use std::time::Duration;

use mcp_redis::{instances, publish_instance};

use crate::common::assert_all_keys_expire;
use crate::start;

#[tokio::test]
async fn instances_are_listed_until_their_figures_expire() {
    let Some(server) = start!() else { return };
    let client = server.client().await;
    // Unrelated keys that a careless pattern would match.
    let mut raw = server.raw().await;
    let _: () =
        redis::cmd("SET").arg("hubmcp:instx").arg("1").arg("PX").arg(60_000).query_async(&mut raw).await.unwrap();
    publish_instance(&client, "i-1", br#"{"sessions":3}"#, Duration::from_secs(60)).await.unwrap();
    publish_instance(&client, "i-2", br#"{"sessions":5}"#, Duration::from_millis(300)).await.unwrap();
    let all = instances(&client).await.unwrap();
    assert_eq!(
        all.iter().map(|(id, d, _)| (id.as_str(), d.as_slice())).collect::<Vec<_>>(),
        vec![("i-1", &br#"{"sessions":3}"#[..]), ("i-2", &br#"{"sessions":5}"#[..])]
    );
    assert!(all.iter().all(|(_, _, age)| *age < 60_000));
    assert_all_keys_expire(&server).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = instances(&client).await.unwrap();
    assert_eq!(all.iter().map(|(id, _, _)| id.as_str()).collect::<Vec<_>>(), vec!["i-1"]);
    // Republishing replaces.
    publish_instance(&client, "i-1", b"{}", Duration::from_secs(60)).await.unwrap();
    assert_eq!(instances(&client).await.unwrap()[0].1, b"{}");
}
