//! `config history | show | rollback`: the configuration's versions.

use brokerdesk_core::history::ConfigVersion;
use brokerdesk_core::{ApiError, Brokerdesk};

use super::{step_up, Ctx};
use crate::args::{ConfigCommand, StepUp};

pub async fn config(bd: &Brokerdesk, ctx: &mut Ctx, cmd: ConfigCommand) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    match cmd {
        ConfigCommand::History { of } => {
            let list = bd.config_history(of.as_deref()).await?;
            ctx.print(&list, || {
                if list.is_empty() {
                    return "No versions yet.\n".to_string();
                }
                list.iter().map(line).collect::<Vec<_>>().join("")
            });
        }
        ConfigCommand::Show { number } => {
            let v = bd.config_show(number).await?;
            ctx.print(&v, || whole(&v));
        }
        ConfigCommand::Rollback { number, step_up: s } => rollback(bd, ctx, number, s).await?,
    }
    Ok(())
}

async fn rollback(bd: &Brokerdesk, ctx: &mut Ctx, version: i64, s: StepUp) -> Result<(), ApiError> {
    let code = ctx.totp(s)?;
    step_up(bd, code).await?;
    let done = bd.config_rollback(version).await?;
    let now = &done.now;
    ctx.print(&done, || {
        if done.changed {
            format!(
                "{} is back to version {version}'s configuration, as version {}:\n{}",
                now.subject,
                now.version,
                changes(now)
            )
        } else {
            format!(
                "{} already has version {version}'s configuration: nothing changed.\n",
                now.subject
            )
        }
    });
    Ok(())
}

fn line(v: &ConfigVersion) -> String {
    let first = v.changes.first().cloned().unwrap_or_default();
    let more = match v.changes.len() {
        0 | 1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    format!(
        "{:>5}  {}  {:<4} {:<24} {first}{more}\n",
        v.version,
        v.at.get(..19).unwrap_or(&v.at),
        v.actor,
        brokerdesk_core::text::cap(&v.subject, 24)
    )
}

fn changes(v: &ConfigVersion) -> String {
    v.changes.iter().map(|c| format!("  {c}\n")).collect()
}

fn whole(v: &ConfigVersion) -> String {
    format!(
        "Version {} of {} — {} by {}\nChanges:\n{}Configuration:\n{}\n",
        v.version,
        v.subject,
        v.at,
        v.actor,
        changes(v),
        serde_json::to_string_pretty(&v.config).unwrap_or_default()
    )
}
