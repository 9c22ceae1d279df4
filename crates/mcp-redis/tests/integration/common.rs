//! A private `redis-server` per test: a free port, its own temp dir, no persistence;
//! stopped (and its dir removed) when dropped. Without `redis-server` on PATH the tests
//! fail with a clear message, unless `HUBMCP_SKIP_REDIS=1`, which makes them skip loudly.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_redis::{RedisClient, RedisConfig};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    extra: Vec<String>,
    tls: bool,
}

/// `let Some(server) = start!() else { return };` — skips (loudly) under HUBMCP_SKIP_REDIS=1.
#[macro_export]
macro_rules! start {
    () => {
        $crate::common::RedisServer::start(module_path!(), &[])
    };
    ($($arg:expr),+) => {
        $crate::common::RedisServer::start(module_path!(), &[$($arg),+])
    };
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl RedisServer {
    pub fn start(test: &str, extra: &[&str]) -> Option<RedisServer> {
        let mut s = Self::prepare(test, extra)?;
        s.spawn();
        Some(s)
    }

    /// A server that speaks only TLS on its port; `setup` gets the server's dir (to write
    /// certificates into) and returns the extra arguments. Used by `tests/tls.rs`.
    #[allow(dead_code)]
    pub fn start_tls(test: &str, setup: impl FnOnce(&std::path::Path) -> Vec<String>) -> Option<RedisServer> {
        let mut s = Self::prepare(test, &[])?;
        let mut extra = vec!["--port".into(), "0".into(), "--tls-port".into(), s.port.to_string()];
        extra.extend(setup(&s.dir));
        s.extra = extra;
        s.tls = true;
        s.spawn();
        Some(s)
    }

    fn prepare(test: &str, extra: &[&str]) -> Option<RedisServer> {
        if std::env::var("HUBMCP_SKIP_REDIS").as_deref() == Ok("1") {
            eprintln!("SKIPPED {test}: HUBMCP_SKIP_REDIS=1, so this Redis test did not run");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("mcp-redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let extra = extra.iter().map(|s| s.to_string()).collect();
        Some(RedisServer { child: None, port, dir, extra, tls: false })
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        match child {
            Ok(c) => self.child = Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not on PATH: these tests need a real Redis (apt-get install redis-server), \
                 or set HUBMCP_SKIP_REDIS=1 to skip them"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        }
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                if self.tls {
                    return;
                }
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 64];
                if s.write_all(b"PING\r\n").is_ok() && matches!(s.read(&mut buf), Ok(n) if n > 0) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig::new(self.url())
    }

    pub async fn client(&self) -> RedisClient {
        RedisClient::connect(self.config()).await.expect("connect to the test redis")
    }

    /// A plain connection for inspecting the server (not through the crate).
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    /// Kill the server (its data is gone: no persistence).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// All keys on the server (tests only: KEYS is fine on a tiny private server).
pub async fn all_keys(server: &RedisServer) -> Vec<String> {
    let mut c = server.raw().await;
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut c).await.unwrap();
    keys.sort();
    keys
}

/// Every key has a TTL (none is left to live forever).
pub async fn assert_all_keys_expire(server: &RedisServer) {
    let mut c = server.raw().await;
    for k in all_keys(server).await {
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query_async(&mut c).await.unwrap();
        assert!(ttl > 0, "key {k} has no TTL ({ttl})");
    }
}

/// Poll `f` until it returns true, for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
