//! `rediss://`: the client verifies the server against the trusted roots (here a test CA
//! given through `SSL_CERT_FILE`, which the system-roots loader honours) and then works
//! like a plain connection. A binary of its own, because it sets an environment variable
//! before any thread starts.

#[path = "integration/common.rs"]
#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mcp_engine::store::{SessionData, SessionStore, StoreError};
use mcp_redis::{RedisClient, RedisConfig, RedisSessionStore};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl on PATH");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a server certificate for 127.0.0.1.
fn make_certs(dir: &Path) -> Vec<String> {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=mcp-redis test CA"]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(dir, &csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    let p = |f: &str| dir.join(f).display().to_string();
    vec![
        "--tls-cert-file".into(),
        p("server.crt"),
        "--tls-key-file".into(),
        p("server.key"),
        "--tls-ca-cert-file".into(),
        p("ca.crt"),
        "--tls-auth-clients".into(),
        "no".into(),
        "--requirepass".into(),
        "tls-Pw".into(),
    ]
}

#[test]
fn rediss_verifies_the_server_and_works() {
    let Some(server) = common::RedisServer::start_tls(module_path!(), make_certs) else { return };
    let port = server.port;
    let cfg = |url: String| RedisConfig::new(url).with_timeouts(Duration::from_secs(2), Duration::from_secs(1));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Before the test CA is trusted, the server's certificate is refused.
    let untrusted = rt.block_on(RedisClient::connect(cfg(format!("rediss://:tls-Pw@127.0.0.1:{port}/0"))));
    let Err(StoreError::Unavailable(msg)) = untrusted else { panic!("an unknown CA must be refused") };
    assert!(!msg.contains("tls-Pw"), "{msg}");
    println!("untrusted server: {msg}");

    // SAFETY (edition 2021: no unsafe needed): no other thread reads the environment now;
    // the runtime above is single-threaded and idle.
    std::env::set_var("SSL_CERT_FILE", server.dir.join("ca.crt"));
    rt.block_on(async {
        let client = RedisClient::connect(cfg(format!("rediss://:tls-Pw@127.0.0.1:{port}/0"))).await.unwrap();
        client.ping().await.unwrap();
        let store = RedisSessionStore::new(client, 10, Duration::from_secs(60));
        let id = store.create(SessionData::default()).await.unwrap();
        assert!(store.touch(&id).await.unwrap().is_some());
        // Plain text to a TLS port does not work.
        assert!(RedisClient::connect(cfg(format!("redis://:tls-Pw@127.0.0.1:{port}/0"))).await.is_err());
    });
}
