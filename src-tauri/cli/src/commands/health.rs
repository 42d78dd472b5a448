//! `health [--deep]`: the profile's health checks (and, with --deep, each broker's sign-in).

use brokerdesk_core::health::{HealthReport, HealthStatus};
use brokerdesk_core::{ApiError, Brokerdesk};

use super::Ctx;

pub async fn health(bd: &Brokerdesk, ctx: &mut Ctx, deep: bool) -> Result<(), ApiError> {
    // Unlocks when it can (a password given, or the keychain); a locked vault is itself a
    // finding, so a failed unlock is not an error here.
    if bd.status().await?.initialized {
        let _ = ctx.unlock(bd).await;
    }
    let report = bd.health(deep).await?;
    ctx.print(&report, || text(&report));
    Ok(())
}

fn text(r: &HealthReport) -> String {
    let mut out = String::new();
    for c in &r.checks {
        let status = match c.status {
            HealthStatus::Ok => "ok",
            HealthStatus::Skipped => "skipped",
            HealthStatus::Warn => "WARN",
            HealthStatus::Fail => "FAIL",
        };
        let code = serde_json::to_value(c.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let what = match &c.subject {
            Some(s) => format!("{code} ({s})"),
            None => code,
        };
        out.push_str(&format!("{status:<8} {what:<20} {}\n", c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<29} → {fix}\n", ""));
        }
    }
    out.push_str(match (r.ok, r.worst) {
        (false, _) => "NOT healthy: see FAIL above",
        (true, HealthStatus::Warn) => "healthy, with warnings (WARN above)",
        (true, _) => "healthy",
    });
    out
}
