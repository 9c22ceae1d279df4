//! The Hugging Face Hub tools, one module per tool, on the engine's provider API, and the
//! small helpers they share (one concern per module).

pub mod args;
pub mod budget;
pub mod confirm;
pub mod create_repo;
pub mod dynamic_space;
pub mod explain;
pub mod format;
pub mod glob;
pub mod hf_fs;
pub mod hf_fs_write;
pub mod hf_jobs;
pub mod repo_details;
pub mod repo_search;
pub mod shell;
pub mod whoami;
pub mod write_common;
