//! Integration tests of mcp-redis against a real `redis-server` started per test (see
//! `common`). Each module mirrors the in-memory implementation's tests for one trait and
//! adds what only a shared store can get wrong: concurrency across clients, caps across
//! instances, outages, leaks of keys or secrets.

mod common;

mod bus;
mod cluster;
mod event_log;
mod limits;
mod outage;
mod sessions;
mod tasks;
