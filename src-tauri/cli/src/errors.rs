//! Errors as the CLI reports them: core's [`ApiError`] (so `--json` prints the same
//! `{code, message, fields}` the app sees), a few CLI-only codes, and the exit code of each.

use std::process::ExitCode;

use brokerdesk_core::ApiError;

/// Exit code for a usage error (clap's own default).
pub const EXIT_USAGE: u8 = 2;

/// Returns the process exit code for an error code (see the `--help` epilogue).
pub fn exit_code(code: &str) -> u8 {
    match code {
        "usage" => EXIT_USAGE,
        "validation"
        | "duplicate_name"
        | "weak_password"
        | "ambiguous"
        | "already_initialized"
        | "no_master_password"
        | "twofa_not_enabled"
        | "twofa_already_enabled"
        | "twofa_not_set_up"
        | "live_needs_verified_connection"
        | "choose_broker_account"
        | "broker_rejected"
        | "broker_not_found"
        | "broker_config"
        | "broker_unsupported"
        | "stream_unavailable"
        | "stream_unknown_instrument" => 3,
        "not_found" | "not_initialized" => 4,
        "broker_auth" => 5,
        "wrong_password" | "locked" | "password_missing" | "password_required" => 5,
        "step_up_required" | "wrong_code" | "code_replayed" | "twofa_locked_out" => 5,
        c if c.starts_with("keychain_") => 5,
        _ => 1,
    }
}

pub fn to_exit(code: &str) -> ExitCode {
    ExitCode::from(exit_code(code))
}

/// Returns an error with no field details.
pub fn error(code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        code: code.to_string(),
        message: message.into(),
        fields: Vec::new(),
    }
}

const PASSWORD_HINT: &str = "pass the master password with --password-stdin or BROKERDESK_PASSWORD";
const STEP_UP_HINT: &str = "pass --totp CODE (a code from your authenticator app or a backup code)";

/// Adds a hint on what to pass to errors that mean "no (usable) password" or "no fresh
/// two-factor code". Applied once, to whatever error a command ends with.
pub fn with_hint(mut e: ApiError) -> ApiError {
    let hint = match e.code.as_str() {
        "locked" | "password_required" | "password_missing" => PASSWORD_HINT,
        "step_up_required" => STEP_UP_HINT,
        _ => return e,
    };
    e.message = format!("{}; {hint}", e.message);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_classes() {
        assert_eq!(exit_code("validation"), 3);
        assert_eq!(exit_code("duplicate_name"), 3);
        assert_eq!(exit_code("not_found"), 4);
        assert_eq!(exit_code("not_initialized"), 4);
        assert_eq!(exit_code("wrong_password"), 5);
        assert_eq!(exit_code("keychain_unavailable"), 5);
        for auth in [
            "step_up_required",
            "wrong_code",
            "code_replayed",
            "twofa_locked_out",
        ] {
            assert_eq!(exit_code(auth), 5, "{auth}");
        }
        for conflict in [
            "twofa_not_enabled",
            "twofa_already_enabled",
            "twofa_not_set_up",
        ] {
            assert_eq!(exit_code(conflict), 3, "{conflict}");
        }
        assert_eq!(exit_code("audit_tampered"), 1);
        assert_eq!(exit_code("qr_failed"), 1);
        assert_eq!(exit_code("usage"), 2);
        assert_eq!(exit_code("storage"), 1);
        assert_eq!(exit_code("vault_changed"), 1);
    }

    #[test]
    fn hints_name_what_to_pass() {
        let e = with_hint(error("step_up_required", "this change needs a fresh code"));
        assert!(e
            .message
            .ends_with("pass --totp CODE (a code from your authenticator app or a backup code)"));
        let e = with_hint(error("locked", "the vault is locked"));
        assert!(e.message.contains("--password-stdin"));
        assert_eq!(with_hint(error("wrong_code", "wrong")).message, "wrong");
    }
}
