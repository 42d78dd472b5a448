//! The CLI's black-box tests, one test binary (each module used to be a binary of its own;
//! one link instead of three). Every test drives the built `brokerdesk` binary in its own
//! data directory, so sharing this process changes nothing for them.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

#[path = "../common/mod.rs"]
mod common;

mod backup;
mod cli;
mod config;
mod export;
mod health;
mod import;
mod phone;
mod risk;
mod security;
mod stream;
mod terminal;
mod trading;
