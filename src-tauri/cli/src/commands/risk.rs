//! `risk show` and `kill-switch`: an account's loss budgets on its firm's clock, and stopping
//! all trading at once. Both run the same runtime as `order` (started for the command, shut
//! down after it); the arithmetic and the actions are core's (`risk`, `runtime::risk`).

use std::sync::Arc;

use brokerdesk_core::{ApiError, Brokerdesk};

use super::trading::with_runtime;
use super::{Ctx, Failure};
use crate::output;

/// `risk show ID`: the risk report (as JSON, exactly core's `RiskReport`).
pub async fn show(bd: &Arc<Brokerdesk>, ctx: &mut Ctx, id: &str) -> Result<(), ApiError> {
    let id = id.to_string();
    let (report, account) = with_runtime(bd, ctx, |rt| async move {
        let account = rt.core().account_get(&id).await?;
        let report = rt.risk_report(&account.id).await?;
        Ok((report, account))
    })
    .await?;
    ctx.print(&report, || output::risk_report(&report, Some(&account)));
    Ok(())
}

/// `kill-switch [--flatten]`: asks first (a typed `yes`, or `--yes`), then prints the
/// report whatever happened; exit 1 (the runtime class) when an order or position failed.
pub async fn kill_switch(
    bd: &Arc<Brokerdesk>,
    ctx: &mut Ctx,
    flatten: bool,
    yes: bool,
) -> Result<(), Failure> {
    ctx.confirm_typed(
        yes,
        "the kill switch stops all trading",
        &format!(
            "Stop all trading: every account to paper mode and suspended, every open order cancelled{}?",
            if flatten {
                ", every live position closed at market"
            } else {
                " (positions stay open)"
            }
        ),
    )?;
    let report = with_runtime(bd, ctx, |rt| async move { rt.kill_switch(flatten).await }).await?;
    ctx.print(&report, || output::kill_report(&report));
    if report.failures == 0 {
        return Ok(());
    }
    if !ctx.json {
        eprintln!(
            "error: {} orders or positions could not be handled (see above; failed orders are in `brokerdesk order review`)",
            report.failures
        );
    }
    Err(Failure::Exit(
        brokerdesk_core::error::ExitClass::Runtime.exit_code(),
    ))
}
