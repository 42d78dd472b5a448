//! `backup`: the passphrase, backing up, the list, a full check, the schedule, and restore
//! (which runs before any profile is opened: see [`restore`]).

use std::path::Path;

use brokerdesk_core::api::backup::BackupStatus;
use brokerdesk_core::api::default_keystore;
use brokerdesk_core::backup::{BackupConfig, BackupFile, BackupVerification};
use brokerdesk_core::{ApiError, Brokerdesk, Code, ErrorCode};

use super::{step_up, Ctx};
use crate::args::{BackupCommand, BackupConfigArgs};
use crate::errors::error;

pub async fn backup(bd: &Brokerdesk, ctx: &mut Ctx, cmd: BackupCommand) -> Result<(), ApiError> {
    match cmd {
        BackupCommand::Status => {
            let s = bd.backup_status().await?;
            ctx.print(&s, || status_text(&s));
        }
        BackupCommand::Passphrase { step_up: s } => {
            ctx.unlock(bd).await?;
            let passphrase = ctx.input.new_passphrase("Backup passphrase")?;
            let code = ctx.totp(s)?;
            step_up(bd, code).await?;
            let s = bd.backup_set_passphrase(passphrase).await?;
            ctx.print(&s, || {
                "Backup passphrase set. Keep it safe and apart from the backups: without it no one, Brokerdesk included, can open them.\n".to_string()
            });
        }
        BackupCommand::Create { out } => {
            ctx.unlock(bd).await?;
            let f = bd.backup_create(out).await?;
            ctx.print(&f, || {
                format!("Backup written to {} ({} bytes).\n", f.path, f.bytes)
            });
        }
        BackupCommand::List => {
            ctx.unlock(bd).await?;
            let files = bd.backup_list().await?;
            ctx.print(&files, || list_text(&files));
        }
        BackupCommand::Verify { file } => {
            ctx.unlock(bd).await?;
            let v = match bd.backup_verify(&file, None).await {
                Ok(v) => v,
                // Not the kept key (an older passphrase, another profile's backup, or none
                // set here): ask for the one it was made with.
                Err(e) if matches!(e.code, Code::Validation | Code::BackupNotSetUp) => {
                    let p = ctx.input.passphrase("Backup passphrase")?;
                    bd.backup_verify(&file, Some(p)).await?
                }
                Err(e) => return Err(e),
            };
            ctx.print(&v, || verification_text(&v));
        }
        BackupCommand::Config(a) => {
            let s = bd.backup_status().await?;
            if a.schedule.is_none()
                && a.folder.is_none()
                && a.keep_daily.is_none()
                && a.keep_weekly.is_none()
            {
                ctx.print(&s.config, || status_text(&s));
                return Ok(());
            }
            let mut c = s.config;
            ctx.unlock(bd).await?;
            apply(&mut c, a);
            let s = bd.backup_configure(c).await?;
            ctx.print(&s, || status_text(&s));
        }
        BackupCommand::Restore { .. } => {
            return Err(error(
                Code::Internal,
                "restore runs before the profile is opened",
            ))
        }
    }
    Ok(())
}

fn apply(c: &mut BackupConfig, a: BackupConfigArgs) {
    if let Some(s) = a.schedule {
        c.scheduled = s == "daily";
    }
    if let Some(f) = a.folder {
        c.folder = (f != "default").then_some(f);
    }
    if let Some(n) = a.keep_daily {
        c.keep_daily = n;
    }
    if let Some(n) = a.keep_weekly {
        c.keep_weekly = n;
    }
}

/// `backup restore FILE`: with no profile open (a restore takes the profile's lock itself).
pub async fn restore(
    ctx: &mut Ctx,
    data_dir: &Path,
    file: &Path,
    yes: bool,
) -> Result<(), ApiError> {
    let has_profile = data_dir.join(brokerdesk_core::store::DB_FILE).exists();
    if has_profile {
        if !yes && !crate::harden::can_prompt() {
            return Err(error(
                Code::Usage,
                format!(
                    "{} already holds a profile: pass --yes to replace it (it is kept in pre-restore/)",
                    data_dir.display()
                ),
            ));
        }
        ctx.confirm(
            yes,
            &format!(
                "Replace the profile in {} with this backup? (it is kept in pre-restore/)",
                data_dir.display()
            ),
        )?;
    }
    let passphrase = ctx.input.passphrase("Backup passphrase")?;
    let report = brokerdesk_core::backup::restore::restore(
        file,
        &passphrase,
        data_dir,
        default_keystore(),
        "cli",
    )
    .await
    .map_err(|e| e.to_api_error())?;
    ctx.print(&report, || {
        let mut s = format!(
            "Restored the backup made {} into {}: {} account(s), {} audit entries.\n",
            report.backup.created_at,
            report.data_dir,
            report.backup.accounts,
            report.backup.audit_entries
        );
        if let Some(p) = &report.previous_copy {
            s.push_str(&format!("The profile it replaced is kept at {p}.\n"));
        }
        s.push_str(if report.backup.protection == "password" {
            "It opens with the master password it had when it was backed up.\n"
        } else {
            "Its key was put in this machine's OS keychain; it unlocks by itself.\n"
        });
        s
    });
    Ok(())
}

fn status_text(s: &BackupStatus) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Passphrase:  {}\n",
        if s.passphrase_set {
            "set"
        } else {
            "not set — no backup can be made until one is (`brokerdesk backup passphrase`)"
        }
    ));
    out.push_str(&format!(
        "Schedule:    {}\n",
        if s.config.scheduled {
            "daily, while the app runs and is unlocked"
        } else {
            "off (by hand only)"
        }
    ));
    out.push_str(&format!("Folder:      {}\n", s.folder));
    out.push_str(&format!(
        "Keep:        {} daily + {} weekly scheduled backups (backups made by hand are never deleted)\n",
        s.config.keep_daily, s.config.keep_weekly
    ));
    match &s.last_backup {
        Some(r) => out.push_str(&format!(
            "Last backup: {} ({}), {}\n",
            r.at,
            r.trigger.as_str(),
            r.path.as_deref().unwrap_or("")
        )),
        None => out.push_str("Last backup: none yet\n"),
    }
    if let Some(f) = &s.last_failure {
        out.push_str(&format!(
            "Last failure: {}: {}\n",
            f.at,
            f.error.as_deref().unwrap_or("")
        ));
    }
    if let Some(d) = &s.next_due {
        out.push_str(&format!("Next due:    {d}\n"));
    }
    out
}

fn list_text(files: &[BackupFile]) -> String {
    if files.is_empty() {
        return "No backups in the backup folder.\n".to_string();
    }
    let mut out = String::new();
    for f in files {
        match &f.problem {
            Some(p) => out.push_str(&format!("{}  unreadable: {p}\n", f.name)),
            None => out.push_str(&format!(
                "{}  {}  {:>10} bytes  {}{}\n",
                f.created_at.as_deref().unwrap_or("?"),
                f.trigger.map(|t| t.as_str()).unwrap_or("?"),
                f.bytes,
                f.name,
                if f.current_key {
                    ""
                } else {
                    "  (an earlier passphrase)"
                }
            )),
        }
    }
    out
}

fn verification_text(v: &BackupVerification) -> String {
    format!(
        "{}: intact — made {} by Brokerdesk {} ({}), {} account(s), {} audit entries; the profile's key is kept by {}.\n",
        v.path,
        v.created_at,
        v.app_version,
        v.trigger.as_str(),
        v.accounts,
        v.audit_entries,
        if v.protection == "password" {
            "its master password"
        } else {
            "the OS keychain (carried in the backup)"
        }
    )
}
