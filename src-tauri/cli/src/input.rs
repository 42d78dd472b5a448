//! Where secrets come from: the master password (first stdin line with `--password-stdin`,
//! else `BROKERDESK_PASSWORD`), then any `-` credential and the new password, each from the
//! next stdin line. Lines are read only when needed, and the password line is always read
//! first, whatever order a command asks in, so the stdin layout is fixed and documented.

use brokerdesk_core::Code;
use std::io::BufRead;

use brokerdesk_core::{ApiError, Secret};

use crate::errors::error;

pub const PASSWORD_ENV: &str = "BROKERDESK_PASSWORD";
pub const NEW_PASSWORD_ENV: &str = "BROKERDESK_NEW_PASSWORD";

/// The secret inputs of one invocation.
pub struct Input {
    password_stdin: bool,
    /// `Some` once the master password was looked up (`Some(None)`: none given).
    password: Option<Option<Secret>>,
}

impl Input {
    pub fn new(password_stdin: bool) -> Self {
        Self {
            password_stdin,
            password: None,
        }
    }

    /// Returns the master password, if one was given.
    pub fn password(&mut self) -> Result<Option<Secret>, ApiError> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        let p = if self.password_stdin {
            Some(
                read_secret("Master password")
                    .map_err(|m| error(Code::PasswordMissing, format!("--password-stdin: {m}")))?,
            )
        } else {
            from_env(PASSWORD_ENV)
        };
        self.password = Some(p.clone());
        Ok(p)
    }

    /// Returns the next stdin line as a secret (after the password line, if any).
    pub fn next_line(&mut self, what: &str) -> Result<Secret, ApiError> {
        self.password()?;
        read_secret(what).map_err(|m| error(Code::Validation, format!("{what} from stdin: {m}")))
    }

    /// Resolves a secret argument: `-` reads the next stdin line. A credential given literally
    /// works, with a warning: other processes can read a command line (`/proc/*/cmdline`,
    /// `ps`), and the shell keeps it in its history.
    pub fn secret(&mut self, value: Secret, what: &str) -> Result<Secret, ApiError> {
        if value.expose() == "-" {
            return self.next_line(what);
        }
        if what.starts_with("--api-") {
            eprintln!(
                "warning: {what} was given on the command line, where other processes and the shell history can see it; pass `{what} -` and send it on stdin instead"
            );
        }
        Ok(value)
    }

    /// Sets the master password (typed at a prompt).
    pub fn set_password(&mut self, password: Secret) {
        self.password = Some(Some(password));
    }

    /// Resolves an optional secret flag: `-` reads the next stdin line.
    pub fn secret_arg(
        &mut self,
        value: Option<Secret>,
        what: &str,
    ) -> Result<Option<Secret>, ApiError> {
        value.map(|v| self.secret(v, what)).transpose()
    }

    /// Returns the new master password: `BROKERDESK_NEW_PASSWORD`, else the next stdin line.
    pub fn new_password(&mut self) -> Result<Secret, ApiError> {
        match from_env(NEW_PASSWORD_ENV) {
            Some(p) => Ok(p),
            None => self.password().and_then(|_| {
                let missing = |m: String| {
                    error(Code::PasswordMissing, format!("the new master password (${NEW_PASSWORD_ENV} or the next stdin line): {m}"))
                };
                if crate::harden::can_prompt() {
                    return typed_new_password();
                }
                read_line().map_err(missing)
            }),
        }
    }
}

impl Input {
    /// A new passphrase for sealing (export --with-credentials, the backup passphrase):
    /// typed twice at hidden prompts, or the next two stdin lines (after the password line);
    /// two different entries stop here, before anything is written. `what` names it
    /// ("Passphrase for the credentials").
    pub fn new_passphrase(&mut self, what: &str) -> Result<Secret, ApiError> {
        let first = self.passphrase(what)?;
        let again = self.passphrase("Repeat the passphrase")?;
        if again.expose() != first.expose() {
            return Err(error(
                Code::Validation,
                "the two passphrases typed differ; nothing was changed",
            ));
        }
        Ok(first)
    }

    /// A passphrase: typed at a hidden prompt, or the next stdin line (after the password
    /// line).
    pub fn passphrase(&mut self, what: &str) -> Result<Secret, ApiError> {
        self.password()?;
        read_secret(what).map_err(|m| {
            error(
                Code::PassphraseRequired,
                format!("{what} (a hidden prompt, or the next stdin line): {m}"),
            )
        })
    }
}

/// An empty variable counts as unset.
fn from_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

/// A new master password typed twice at hidden prompts; two different entries change nothing.
pub fn typed_new_password() -> Result<Secret, ApiError> {
    let ask = |q: &str| {
        read_secret(q).map_err(|m| {
            error(
                Code::PasswordMissing,
                format!("the new master password: {m}"),
            )
        })
    };
    let new = ask("New master password")?;
    let again = ask("Repeat the new master password")?;
    if again.expose() != new.expose() {
        return Err(error(
            Code::Validation,
            "the two passwords typed differ; nothing was changed",
        ));
    }
    Ok(new)
}

/// The next secret: typed at a hidden prompt naming `what` when stdin is a terminal (a
/// secret is never echoed), else the next line of stdin.
fn read_secret(what: &str) -> Result<Secret, String> {
    if crate::harden::can_prompt() {
        return crate::harden::prompt_hidden(&format!("{what}: "))
            .map(Secret::new)
            .map_err(|e| format!("cannot read the terminal: {e}"));
    }
    read_line()
}

/// Reads one line of stdin without its line ending. Other whitespace is kept: it may be part
/// of a password, and core rejects it in API keys with a clear message.
fn read_line() -> Result<Secret, String> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if n == 0 {
        return Err("stdin is empty (expected one more line)".to_string());
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    // Moved, not copied: the Secret is the only holder and zeroizes on drop.
    Ok(Secret::new(line))
}
