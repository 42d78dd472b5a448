//! Brokerdesk's engine: the vault that seals secrets, the SQLite store, account
//! configuration, broker connectors, connections and price streams, the [`api::Brokerdesk`]
//! facade that the Tauri shell, the development server and the CLI all call, and the
//! [`runtime`] that runs while a profile is open. Nothing here depends on Tauri.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod backup;
pub mod brokers;
pub mod connection;
pub mod error;
pub mod exports;
pub mod fuzz;
pub mod health;
pub mod history;
pub mod import;
pub mod logging;
pub mod money;
pub mod paper;
pub mod paths;
pub mod portable;
pub mod risk;
pub mod runtime;
pub mod seal;
pub mod secret;
pub mod settings;
pub mod store;
pub mod stream;
pub mod text;
pub mod trading;
pub mod twofa;
pub mod vault;

pub use api::{Brokerdesk, VaultStatus};
pub use error::{ApiError, Code, ErrorCode, FieldCode, FieldError};
pub use money::Decimal;
pub use secret::Secret;
