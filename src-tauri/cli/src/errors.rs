//! Errors as the CLI reports them: core's [`ApiError`] (so `--json` prints the same
//! `{code, message, fields}` the app sees) and the exit code of each, which is the code's
//! [`brokerdesk_core::error::ExitClass`].

use std::process::ExitCode;

use brokerdesk_core::{ApiError, Code};

/// Exit code for a usage error (clap's own default).
pub const EXIT_USAGE: u8 = 2;

/// Returns the process exit code for an error code (see the `--help` epilogue).
pub fn exit_code(code: Code) -> u8 {
    code.exit_class().exit_code()
}

pub fn to_exit(code: Code) -> ExitCode {
    ExitCode::from(exit_code(code))
}

/// Returns an error with no field details.
pub fn error(code: Code, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

const PASSWORD_HINT: &str = "pass the master password with --password-stdin or BROKERDESK_PASSWORD";
const STEP_UP_HINT: &str = "pass --totp CODE (a code from your authenticator app or a backup code)";

/// Adds a hint on what to pass to errors that mean "no (usable) password" or "no fresh
/// two-factor code". Applied once, to whatever error a command ends with.
pub fn with_hint(mut e: ApiError) -> ApiError {
    let hint = match e.code {
        Code::Locked | Code::PasswordRequired | Code::PasswordMissing => PASSWORD_HINT,
        Code::StepUpRequired => STEP_UP_HINT,
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
        assert_eq!(exit_code(Code::Validation), 3);
        assert_eq!(exit_code(Code::DuplicateName), 3);
        assert_eq!(exit_code(Code::NotFound), 4);
        assert_eq!(exit_code(Code::NotInitialized), 4);
        assert_eq!(exit_code(Code::WrongPassword), 5);
        assert_eq!(exit_code(Code::KeychainUnavailable), 5);
        for auth in [
            Code::StepUpRequired,
            Code::WrongCode,
            Code::CodeReplayed,
            Code::TwofaLockedOut,
            Code::CertificateChanged,
        ] {
            assert_eq!(exit_code(auth), 5, "{auth}");
        }
        for conflict in [
            Code::TwofaNotEnabled,
            Code::TwofaAlreadyEnabled,
            Code::TwofaNotSetUp,
        ] {
            assert_eq!(exit_code(conflict), 3, "{conflict}");
        }
        assert_eq!(exit_code(Code::AuditTampered), 1);
        assert_eq!(exit_code(Code::QrFailed), 1);
        assert_eq!(exit_code(Code::Usage), 2);
        assert_eq!(exit_code(Code::Storage), 1);
        assert_eq!(exit_code(Code::VaultChanged), 1);
    }

    #[test]
    fn hints_name_what_to_pass() {
        let e = with_hint(error(
            Code::StepUpRequired,
            "this change needs a fresh code",
        ));
        assert!(e
            .message
            .ends_with("pass --totp CODE (a code from your authenticator app or a backup code)"));
        let e = with_hint(error(Code::Locked, "the vault is locked"));
        assert!(e.message.contains("--password-stdin"));
        assert_eq!(with_hint(error(Code::WrongCode, "wrong")).message, "wrong");
    }
}
