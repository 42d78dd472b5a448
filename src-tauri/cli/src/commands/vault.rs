//! `init`, `status` and `vault …`.

use brokerdesk_core::vault::VaultProtection;
use brokerdesk_core::{ApiError, Brokerdesk, VaultStatus};

use super::{step_up, Ctx};
use crate::args::StepUp;
use crate::output;

fn protection(s: &VaultStatus) -> &'static str {
    match s.protection {
        Some(VaultProtection::Password) => "a master password",
        _ => "the OS keychain",
    }
}

/// Creates the vault. With no password given: the OS keychain where one is reachable, else
/// (on a terminal) a new master password typed twice at hidden prompts.
pub async fn init(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    let mut password = ctx.input.password()?;
    if password.is_none() && crate::harden::can_prompt() {
        let s = bd.status().await?;
        if !s.initialized && !s.keychain_available {
            password = Some(crate::input::typed_new_password()?);
        }
    }
    let s = bd.init(password).await?;
    ctx.print(&s, || {
        format!(
            "Vault created in {}, protected by {}.\n",
            s.data_dir,
            protection(&s)
        )
    });
    Ok(())
}

pub async fn status(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    let s = bd.status().await?;
    ctx.print(&s, || output::status(&s));
    Ok(())
}

/// Locks without asking for the password first: locking needs no secret. Core refuses on a
/// keychain vault (`no_master_password`), which would unlock itself again anyway.
pub async fn lock(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    let s = bd.lock().await?;
    ctx.print(&s, || "Vault locked.\n".to_string());
    Ok(())
}

pub async fn change_password(bd: &Brokerdesk, ctx: &mut Ctx, s: StepUp) -> Result<(), ApiError> {
    let current = ctx.unlock(bd).await?;
    let new = ctx.input.new_password()?;
    let code = ctx.totp(s)?;
    step_up(bd, code).await?;
    let s = bd.change_password(current, new).await?;
    ctx.print(&s, || "Master password changed.\n".to_string());
    Ok(())
}

pub async fn rotate_key(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let s = bd.rotate_key().await?;
    ctx.print(&s, || {
        format!(
            "Key rotated (generation {}): every stored secret was re-sealed.\n",
            s.key_generation
        )
    });
    Ok(())
}
