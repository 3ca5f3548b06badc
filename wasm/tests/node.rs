//! The `Feed` tests in Node.js: `wasm-pack test --node wasm`.
//!
//! This binary does not configure `run_in_browser`, so the wasm-bindgen test runner runs it in
//! Node (and skips it under `--chrome`/`--firefox`); `browser.rs` runs the same tests in a browser.

#![cfg(target_arch = "wasm32")]

mod common;
