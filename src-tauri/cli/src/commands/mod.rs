//! Command bodies: each is a plain function over [`Brokerdesk`] that prints its result and
//! returns core's [`ApiError`] on failure; `main` turns that error into output and an exit code.

mod account;
mod audit;
mod backup;
mod config;
mod export;
mod health;
mod import;
mod risk;
mod settings;
mod stream;
mod trading;
mod twofa;
mod vault;
mod watch;

use brokerdesk_core::Code;
use std::io::{BufRead, IsTerminal, Write};

use brokerdesk_core::accounts::catalog;
use brokerdesk_core::api::default_keystore;
use brokerdesk_core::{logging, paths, ApiError, Brokerdesk, Secret};

use crate::args::{
    AccountCommand, AuditCommand, Cli, Command, CredentialsCommand, RiskCommand, SettingsCommand,
    StepUp, TwofaCommand, VaultCommand,
};
use crate::errors::{error, with_hint};
use crate::input::Input;
use crate::output;

/// The name the audit log records for what this binary does.
const ACTOR: &str = "cli";

/// How a command failed.
pub enum Failure {
    /// An error still to print (as text or as the JSON error document).
    Error(ApiError),
    /// An error whose output the command already printed (its one JSON document carries
    /// more than the error); only the exit code is left to set.
    Reported(ApiError),
    /// The command ran and printed its whole result, which says what failed (the kill
    /// switch's report): only this exit code is left to set.
    Exit(u8),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Error(e)
    }
}

/// What every command body gets besides the open profile.
pub struct Ctx {
    pub json: bool,
    pub input: Input,
}

impl Ctx {
    /// Prints a result: `value` as JSON, or the human text.
    fn print<T: serde::Serialize + ?Sized>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            output::json(value);
        } else {
            print!("{}", human());
        }
    }

    /// Reads the master password and unlocks the vault with it (if it is locked). With no
    /// password given and a terminal at hand, asks for it without echoing.
    async fn unlock(&mut self, bd: &Brokerdesk) -> Result<Option<Secret>, ApiError> {
        let mut password = self.input.password()?;
        if password.is_none() && crate::harden::can_prompt() {
            let s = bd.status().await?;
            if s.initialized
                && s.locked
                && s.protection == Some(brokerdesk_core::vault::VaultProtection::Password)
            {
                let typed = crate::harden::prompt_hidden("Master password: ").map_err(|e| {
                    error(
                        Code::PasswordMissing,
                        format!("cannot read the password: {e}"),
                    )
                })?;
                let typed = Secret::new(typed);
                self.input.set_password(typed.clone());
                password = Some(typed);
            }
        }
        bd.ensure_unlocked(password.clone()).await?;
        Ok(password)
    }

    /// Resolves `--totp` (`-` reads the next stdin line). Call after any other secret input,
    /// so the stdin order is the documented one.
    fn totp(&mut self, step_up: StepUp) -> Result<Option<Secret>, ApiError> {
        self.input.secret_arg(step_up.totp, "--totp")
    }

    /// Asks "question [y/N]" on a terminal, unless `yes`, `--json` or stdin is not a terminal;
    /// a "no" is the `cancelled` error.
    fn confirm(&self, yes: bool, question: &str) -> Result<(), ApiError> {
        if yes || self.json || !std::io::stdin().is_terminal() {
            return Ok(());
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| error(Code::Io, format!("cannot read the answer: {e}")))?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            Err(error(Code::Cancelled, "cancelled: nothing was changed"))
        }
    }

    /// For what cannot be undone or stops everything: unless `yes`, a terminal must type
    /// `yes` in full after `question`; a script (`--json`, or stdin not a terminal) must pass
    /// `--yes` (a `usage` error naming `what` otherwise). Anything else is `cancelled`.
    fn confirm_typed(&self, yes: bool, what: &str, question: &str) -> Result<(), ApiError> {
        if yes {
            return Ok(());
        }
        if self.json || !std::io::stdin().is_terminal() {
            return Err(error(Code::Usage, format!("{what}: pass --yes to confirm")));
        }
        eprint!("{question}\nType yes to confirm: ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| error(Code::Io, format!("cannot read the answer: {e}")))?;
        if answer.trim().eq_ignore_ascii_case("yes") {
            Ok(())
        } else {
            Err(error(Code::Cancelled, "cancelled: nothing was changed"))
        }
    }
}

/// Verifies the `--totp` code, if one was given: that opens the step-up window the command
/// about to run needs. With two-factor authentication off no code is needed: it is ignored
/// with a warning on stderr (scripts may pass it whatever the profile's setting).
async fn step_up(bd: &Brokerdesk, code: Option<Secret>) -> Result<(), ApiError> {
    let Some(code) = code else {
        return Ok(());
    };
    match bd.twofa_verify(code.expose()).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == Code::TwofaNotEnabled => {
            eprintln!(
                "warning: two-factor authentication is off: --totp is not needed and was ignored"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Fails with `not_initialized` before the vault exists (for commands that need no password).
async fn require_initialized(bd: &Brokerdesk) -> Result<(), ApiError> {
    if bd.status().await?.initialized {
        Ok(())
    } else {
        Err(error(
            Code::NotInitialized,
            "no vault in this data directory yet; create one with `brokerdesk init`",
        ))
    }
}

/// Runs one invocation.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let mut ctx = Ctx {
        json: cli.json,
        input: Input::new(cli.password_stdin),
    };
    if let Command::Brokers = cli.command {
        // Static information: no need to create or open a data dir for it.
        let (brokers, presets) = (catalog::broker_catalog(), catalog::prop_firm_presets());
        // A struct, not `json!`: through a `Value` the presets' decimals would be strings.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Catalog<'a> {
            brokers: &'a [catalog::BrokerInfo],
            prop_firm_presets: &'a [catalog::PropFirmPresetInfo],
        }
        ctx.print(
            &Catalog {
                brokers: &brokers,
                prop_firm_presets: &presets,
            },
            || output::brokers(&brokers, &presets),
        );
        return Ok(());
    }
    let data_dir = paths::resolve_data_dir(cli.data_dir).ok_or_else(|| {
        error(
            Code::DataDir,
            "cannot find a home directory for the data; pass --data-dir or set BROKERDESK_DATA_DIR",
        )
    })?;
    if let Err(m) = logging::init(&data_dir, false) {
        eprintln!("warning: {m}");
    }
    if let Command::Backup(crate::args::BackupCommand::Restore { file, yes }) = &cli.command {
        // Before any profile is opened: a restore replaces it.
        return backup::restore(&mut ctx, &data_dir, file, *yes)
            .await
            .map_err(|e| Failure::Error(with_hint(e)));
    }
    let bd = std::sync::Arc::new(Brokerdesk::open_as(&data_dir, default_keystore(), ACTOR).await?);
    let result = match cli.command {
        Command::Audit(AuditCommand::Verify) => audit::verify(&bd, &mut ctx).await,
        Command::KillSwitch { flatten, yes } => {
            risk::kill_switch(&bd, &mut ctx, flatten, yes).await
        }
        command => dispatch(&bd, command, &mut ctx)
            .await
            .map_err(Failure::from),
    };
    bd.close().await;
    result.map_err(|f| match f {
        Failure::Error(e) => Failure::Error(with_hint(e)),
        reported => reported,
    })
}

async fn dispatch(
    bd: &std::sync::Arc<Brokerdesk>,
    command: Command,
    ctx: &mut Ctx,
) -> Result<(), ApiError> {
    match command {
        Command::Init => vault::init(bd, ctx).await,
        Command::Status => vault::status(bd, ctx).await,
        Command::Brokers => Ok(()),
        Command::Account(cmd) => match cmd {
            AccountCommand::Add(a) => account::add(bd, ctx, a).await,
            AccountCommand::List => account::list(bd, ctx).await,
            AccountCommand::Show { id } => account::show(bd, ctx, &id).await,
            AccountCommand::Verify { id } => account::verify(bd, ctx, &id).await,
            AccountCommand::Edit(e) => account::edit(bd, ctx, e).await,
            AccountCommand::TrustCertificate {
                id,
                fingerprint,
                step_up,
            } => account::trust_certificate(bd, ctx, &id, &fingerprint, step_up).await,
            AccountCommand::Remove { id, yes, step_up } => {
                account::remove(bd, ctx, &id, yes, step_up).await
            }
            AccountCommand::Status {
                id,
                status,
                reason,
                purge_credentials,
                yes,
                step_up,
            } => {
                let change = account::StatusChange {
                    to: status,
                    reason,
                    purge_credentials,
                    yes,
                };
                account::status(bd, ctx, &id, change, step_up).await
            }
        },
        Command::Risk(RiskCommand::Show { id }) => risk::show(bd, ctx, &id).await,
        Command::Vault(cmd) => match cmd {
            VaultCommand::Lock => vault::lock(bd, ctx).await,
            VaultCommand::ChangePassword { step_up } => {
                vault::change_password(bd, ctx, step_up).await
            }
            VaultCommand::RotateKey => vault::rotate_key(bd, ctx).await,
        },
        Command::Twofa(cmd) => match cmd {
            TwofaCommand::Status => twofa::status(bd, ctx).await,
            TwofaCommand::Setup { qr_png } => twofa::setup(bd, ctx, qr_png.as_deref()).await,
            TwofaCommand::Enable { code } => twofa::enable(bd, ctx, code).await,
            TwofaCommand::Verify { code } => twofa::verify(bd, ctx, code).await,
            TwofaCommand::Disable { step_up } => twofa::disable(bd, ctx, step_up).await,
            TwofaCommand::BackupCodes { step_up } => twofa::backup_codes(bd, ctx, step_up).await,
        },
        // `audit verify` and `kill-switch` are run by `run`: a failure carries its own
        // document.
        Command::Audit(AuditCommand::Verify) | Command::KillSwitch { .. } => Ok(()),
        Command::Audit(AuditCommand::List(a)) => audit::list(bd, ctx, a).await,
        Command::Credentials(CredentialsCommand::Purge { yes, step_up }) => {
            account::purge(bd, ctx, yes, step_up).await
        }
        Command::Export(a) => export::export(bd, ctx, a).await,
        Command::Import(a) => import::import(bd, ctx, a).await,
        Command::Config(cmd) => config::config(bd, ctx, cmd).await,
        Command::Health { deep } => health::health(bd, ctx, deep).await,
        Command::Backup(cmd) => backup::backup(bd, ctx, cmd).await,
        Command::Stream(a) => stream::stream(bd, ctx, a).await,
        Command::Watch(a) => watch::watch(bd, ctx, a).await,
        Command::Order(cmd) => trading::order(bd, ctx, cmd).await,
        Command::Position(cmd) => trading::position(bd, ctx, cmd).await,
        Command::Paper(cmd) => trading::paper(bd, ctx, cmd).await,
        Command::Mode { id, mode, step_up } => account::mode(bd, ctx, &id, mode, step_up).await,
        Command::Settings(cmd) => match cmd {
            SettingsCommand::Show => settings::show(bd, ctx).await,
            SettingsCommand::AutoLock { minutes } => {
                settings::auto_lock(bd, ctx, minutes.into_option()).await
            }
        },
    }
}
