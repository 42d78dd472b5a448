//! Brokerdesk's engine: the vault that seals secrets, the SQLite store, account
//! configuration, and the [`api::Brokerdesk`] facade that the Tauri shell and the CLI both
//! call. Nothing here depends on Tauri.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod brokers;
pub mod connection;
pub mod error;
pub mod logging;
pub mod money;
pub mod paths;
pub mod secret;
pub mod settings;
pub mod store;
pub mod stream;
pub mod trading;
pub mod twofa;
pub mod vault;

pub use api::{Brokerdesk, VaultStatus};
pub use error::{ApiError, ErrorCode, FieldError};
pub use money::Decimal;
pub use secret::Secret;
