//! `import FILE [--dry-run] [--on-conflict skip|replace|rename] [--yes]`: a configuration
//! file checked, previewed per account and field, then applied all or nothing.

use std::io::Read;

use brokerdesk_core::accounts::diff::{ChangeKind, FieldChange};
use brokerdesk_core::import::{self, AccountAction, ImportPreview, OnConflict, MAX_IMPORT_BYTES};
use brokerdesk_core::portable::SEALED;
use brokerdesk_core::{ApiError, Brokerdesk, Code, ErrorCode};

use super::{step_up, Ctx};
use crate::args::{ImportArgs, OnConflictArg};
use crate::errors::error;

pub async fn import(bd: &Brokerdesk, ctx: &mut Ctx, a: ImportArgs) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let from_stdin = a.file.as_os_str() == "-";
    let bytes = read_file(&a.file, from_stdin)?;
    let on_conflict = a.on_conflict.map(|c| match c {
        OnConflictArg::Skip => OnConflict::Skip,
        OnConflictArg::Replace => OnConflict::Replace,
        OnConflictArg::Rename => OnConflict::Rename,
    });
    // Checked here first: a broken file is reported before any passphrase is asked.
    let checked = import::check_bytes(&bytes).map_err(|e| e.to_api_error())?;
    let sealed = checked
        .doc
        .accounts
        .iter()
        .any(|acc| acc.credentials.values().any(|m| m == SEALED));
    let passphrase = if sealed {
        if from_stdin {
            return Err(error(
                Code::PassphraseRequired,
                "the file carries sealed credentials: import it from a file (not stdin), so the passphrase can be read",
            ));
        }
        Some(ctx.input.passphrase("Passphrase of the export")?)
    } else {
        None
    };
    let preview = bd
        .config_import_preview(&bytes, passphrase.clone(), on_conflict)
        .await?;
    if a.dry_run {
        ctx.print(&preview, || {
            format!("{}Dry run: nothing was changed.\n", describe(&preview))
        });
        return Ok(());
    }
    if !preview.conflicts.is_empty() {
        return Err(import::ImportError::Conflict(preview.conflicts.clone()).to_api_error());
    }
    if !preview.changes_anything {
        ctx.print(&preview, || {
            format!(
                "{}Nothing to import: the profile already has this configuration.\n",
                describe(&preview)
            )
        });
        return Ok(());
    }
    if !ctx.json && !a.yes && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("{}", describe(&preview));
    }
    ctx.confirm(a.yes, "Apply this import?")?;
    let code = ctx.totp(a.step_up)?;
    step_up(bd, code).await?;
    let done = bd
        .config_import_apply(&bytes, passphrase, on_conflict)
        .await?;
    ctx.print(&done, || format!("{}Imported.\n", describe(&done)));
    Ok(())
}

/// Reads at most the import limit (+1 byte, to tell a larger file), checking the size first.
fn read_file(path: &std::path::Path, from_stdin: bool) -> Result<Vec<u8>, ApiError> {
    let too_large = |n: u64| import::ImportError::TooLarge(n).to_api_error();
    let mut bytes = Vec::new();
    if from_stdin {
        std::io::stdin()
            .lock()
            .take(MAX_IMPORT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(Code::Io, format!("cannot read stdin: {e}")))?;
    } else {
        let cannot = |e: std::io::Error| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                Code::NotFound
            } else {
                Code::Io
            };
            error(code, format!("cannot read {}: {e}", path.display()))
        };
        let file = std::fs::File::open(path).map_err(cannot)?;
        let len = file.metadata().map_err(cannot)?.len();
        if len > MAX_IMPORT_BYTES {
            return Err(too_large(len));
        }
        file.take(MAX_IMPORT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    let n = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if n > MAX_IMPORT_BYTES {
        return Err(too_large(n));
    }
    Ok(bytes)
}

fn mark(c: &FieldChange) -> char {
    match c.kind {
        ChangeKind::Added => '+',
        ChangeKind::Changed => '~',
        ChangeKind::Removed => '-',
    }
}

fn describe(p: &ImportPreview) -> String {
    let mut out = format!(
        "Import of export #{} of profile {} (schema {}, Brokerdesk {}, exported {})\n",
        p.serial, p.lineage, p.schema_version, p.app_version, p.exported_at
    );
    if p.sealed_credentials {
        out.push_str(if p.credentials_opened {
            "Sealed credentials: opened with the passphrase.\n"
        } else {
            "Sealed credentials: not opened (no passphrase).\n"
        });
    }
    out.push_str("Accounts:\n");
    if p.accounts.is_empty() {
        out.push_str("  (none in the file)\n");
    }
    for acc in &p.accounts {
        let head = match acc.action {
            AccountAction::Add => format!("  + {}: new account, in paper mode", acc.stored_as),
            AccountAction::Rename => format!(
                "  + {}: new account (the file's {:?}; that name is taken), in paper mode",
                acc.stored_as, acc.name
            ),
            AccountAction::Replace => format!(
                "  ~ {}: replaced ({} setting(s) differ, {} unchanged){}",
                acc.stored_as,
                acc.changes.len(),
                acc.unchanged,
                if acc.to_paper { "; moves to paper mode" } else { "" }
            ),
            AccountAction::Skip => format!("  = {}: skipped (left as it is)", acc.stored_as),
            AccountAction::Unchanged => {
                format!("  = {}: unchanged (already this configuration)", acc.stored_as)
            }
            AccountAction::Conflict => format!(
                "  ! {}: an account has this name ({} setting(s) differ); choose --on-conflict skip, replace or rename",
                acc.name,
                acc.changes.len()
            ),
        };
        out.push_str(&head);
        out.push('\n');
        for c in &acc.changes {
            out.push_str(&format!("      {} {}\n", mark(c), c.line()));
        }
        if !acc.credentials.is_empty() && acc.action != AccountAction::Skip {
            let names: Vec<&str> = acc.credentials.iter().map(|f| f.as_str()).collect();
            out.push_str(&format!(
                "      credentials: {} (sealed; stored unverified)\n",
                names.join(", ")
            ));
        }
        if !acc.credentials_missing.is_empty() {
            let names: Vec<&str> = acc.credentials_missing.iter().map(|f| f.as_str()).collect();
            out.push_str(&format!(
                "      credentials missing: {} (it cannot connect until they are entered)\n",
                names.join(", ")
            ));
        }
        if !acc.loosens.is_empty() {
            out.push_str(&format!("      loosens: {}\n", acc.loosens.join(", ")));
        }
    }
    if p.settings.changes.is_empty() {
        out.push_str("Settings: unchanged\n");
    } else {
        out.push_str("Settings:\n");
        for c in &p.settings.changes {
            out.push_str(&format!("      {} {}\n", mark(c), c.line()));
        }
    }
    if !p.not_in_file.is_empty() {
        out.push_str(&format!(
            "Not in the file (left as they are): {}\n",
            p.not_in_file.join(", ")
        ));
    }
    if !p.step_up.is_empty() {
        out.push_str(&format!(
            "Needs the two-factor step-up: {}\n",
            p.step_up.join("; ")
        ));
    }
    out
}
