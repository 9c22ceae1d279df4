//! The Hugging Face Hub tools, one module per tool, on the engine's provider API.

pub mod common;
pub mod dynamic_space;
pub mod hf_fs;
pub mod repo_details;
pub mod repo_search;
pub mod whoami;
