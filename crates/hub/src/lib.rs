//! Hugging Face Hub integration for hubmcp.
//!
//! [`client`] is the one way the crate speaks to the Hub (reqwest): Hub API JSON, file ranges,
//! docs pages and the datasets-server API, with retries, pagination and actionable errors.
//! [`tools`] are the MCP tools built on it (over `mcp-engine`), served by the `hub` toolset in
//! [`toolset`].

pub mod auth;
pub mod cache;
pub mod client;
pub mod gradio;
pub mod proxy_tools;
pub mod selection;
pub mod skills;

pub use client::{HubClient, HubClientConfig, HubError, HubErrorKind, RepoKind, Token};
pub mod tools;
pub mod toolset;

pub use toolset::{HubOptions, HubProvider};
