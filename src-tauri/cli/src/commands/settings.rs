//! `settings show` and `settings auto-lock MINUTES|off`.

use brokerdesk_core::{ApiError, Brokerdesk};

use super::{require_initialized, Ctx};
use crate::output;

/// Shows the settings; core reads them without the key, so no password is needed.
pub async fn show(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    require_initialized(bd).await?;
    let s = bd.settings().await?;
    ctx.print(&s, || output::settings(&s));
    Ok(())
}

/// Changes only the auto-lock setting; core validates the range (1-1440 minutes).
pub async fn auto_lock(
    bd: &Brokerdesk,
    ctx: &mut Ctx,
    minutes: Option<u32>,
) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let mut s = bd.settings().await?;
    s.auto_lock_minutes = minutes;
    let s = bd.settings_update(s).await?;
    ctx.print(&s, || output::settings(&s));
    Ok(())
}
