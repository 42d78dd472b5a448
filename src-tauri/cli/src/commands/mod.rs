//! Command bodies: each is a plain function over [`Brokerdesk`] that prints its result and
//! returns core's [`ApiError`] on failure; `main` turns that error into output and an exit code.

mod account;
mod vault;

use brokerdesk_core::accounts::catalog;
use brokerdesk_core::api::default_keystore;
use brokerdesk_core::{logging, paths, ApiError, Brokerdesk, Secret};

use crate::args::{AccountCommand, Cli, Command, VaultCommand};
use crate::errors::{error, with_hint};
use crate::input::Input;
use crate::output;

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

    /// Reads the master password and unlocks the vault with it (if it is locked).
    async fn unlock(&mut self, bd: &Brokerdesk) -> Result<Option<Secret>, ApiError> {
        let password = self.input.password()?;
        bd.ensure_unlocked(password.clone())
            .await
            .map_err(with_hint)?;
        Ok(password)
    }
}

/// Runs one invocation.
pub async fn run(cli: Cli) -> Result<(), ApiError> {
    let mut ctx = Ctx {
        json: cli.json,
        input: Input::new(cli.password_stdin),
    };
    if let Command::Brokers = cli.command {
        // Static information: no need to create or open a data dir for it.
        let (brokers, presets) = (catalog::broker_catalog(), catalog::prop_firm_presets());
        ctx.print(
            &serde_json::json!({ "brokers": brokers, "propFirmPresets": presets }),
            || output::brokers(&brokers, &presets),
        );
        return Ok(());
    }
    let data_dir = paths::resolve_data_dir(cli.data_dir).ok_or_else(|| {
        error(
            "data_dir",
            "cannot find a home directory for the data; pass --data-dir or set BROKERDESK_DATA_DIR",
        )
    })?;
    if let Err(m) = logging::init(&data_dir, false) {
        eprintln!("warning: {m}");
    }
    let bd = Brokerdesk::open(&data_dir, default_keystore()).await?;
    let result = dispatch(&bd, cli.command, &mut ctx).await;
    bd.close().await;
    result
}

async fn dispatch(bd: &Brokerdesk, command: Command, ctx: &mut Ctx) -> Result<(), ApiError> {
    match command {
        Command::Init => vault::init(bd, ctx).await,
        Command::Status => vault::status(bd, ctx).await,
        Command::Brokers => Ok(()),
        Command::Account(cmd) => match cmd {
            AccountCommand::Add(a) => account::add(bd, ctx, a).await,
            AccountCommand::List => account::list(bd, ctx).await,
            AccountCommand::Show { id } => account::show(bd, ctx, &id).await,
            AccountCommand::Edit(e) => account::edit(bd, ctx, e).await,
            AccountCommand::Remove { id, yes, totp: _ } => account::remove(bd, ctx, &id, yes).await,
        },
        Command::Vault(cmd) => match cmd {
            VaultCommand::Lock => vault::lock(bd, ctx).await,
            VaultCommand::ChangePassword => vault::change_password(bd, ctx).await,
            VaultCommand::RotateKey => vault::rotate_key(bd, ctx).await,
        },
    }
}
