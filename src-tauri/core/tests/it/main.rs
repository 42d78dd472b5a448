//! The core's integration tests, one test binary: each module below used to be a binary of
//! its own, and linking twelve binaries against the core, the simulators and their
//! dependencies cost more than running every test in them. Tests share this process, so
//! none may change process-wide state (environment variables, a global log subscriber);
//! the one that must, `no_secret_in_logs`, stays a binary of its own (see Cargo.toml).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

/// A recorded broker payload from `core/test_data/` (see its README), as a `&'static str`
/// holding the file byte for byte.
macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/", $path))
    };
}

/// A broker module's leak checks against its fixed secrets: `assert_clean(&e)` fails if any
/// of them shows in the error's `Display` or `Debug`; `err(r)` returns the error of `r`,
/// checked.
macro_rules! leak_checks {
    ($vis:vis [$($secret:expr),+ $(,)?]) => {
        /// Fails if a secret shows in the error's `Display` or `Debug`.
        $vis fn assert_clean(e: &BrokerError) {
            crate::common::assert_no_secret(e, &[$($secret),+]);
        }

        /// Returns the error, checked for leaks.
        $vis fn err<T: std::fmt::Debug>(r: Result<T, BrokerError>) -> BrokerError {
            crate::common::checked_err(r, assert_clean)
        }
    };
}

#[path = "../common/mod.rs"]
mod common;

mod audit_log;
mod backup;
mod broker_alpaca;
mod broker_ibkr;
mod broker_oanda;
mod broker_tastytrade;
mod broker_tradier;
mod conformance;
mod connection_manager;
mod crash_safety;
mod disk_full;
mod fuzz_seeds;
mod ipc;
mod key_changes;
mod no_plaintext;
mod orders_faults;
mod os_keychain;
mod paper_desk;
mod risk;
mod runtime;
mod safe_state;
mod security_state;
mod step_up;
mod trading;
mod verify;
