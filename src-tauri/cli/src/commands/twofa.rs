//! `twofa …`: setup (otpauth URI, secret, optional QR PNG), enable, verify, disable and
//! backup codes. Core enforces every rule (lockout, replay, step-up); this prints.

use brokerdesk_core::Code;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use brokerdesk_core::{ApiError, Brokerdesk, Secret};
use serde::Serialize;

use super::{require_initialized, Ctx};
use crate::args::StepUp;
use crate::errors::error;
use crate::output;

/// Pixels per QR module in `--qr-png` (a 57-module code becomes a 520-pixel square).
const QR_SCALE: u32 = 8;

pub async fn status(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    require_initialized(bd).await?;
    let s = bd.twofa_status().await?;
    ctx.print(&s, || output::twofa_status(&s));
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetupOut {
    otpauth_uri: String,
    secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_png: Option<String>,
}

pub async fn setup(bd: &Brokerdesk, ctx: &mut Ctx, qr_png: Option<&Path>) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    // Open the PNG's file before anything changes, so an unwritable path costs nothing.
    let mut file = qr_png.map(QrFile::open).transpose()?;
    let setup = match bd.twofa_setup().await {
        Ok(s) => s,
        Err(e) => {
            if let Some(f) = file.take() {
                f.abandon();
            }
            return Err(e);
        }
    };
    let written = match file {
        Some(f) => match bd.twofa_qr_png(QR_SCALE).await {
            Ok(png) => Some(f.write(&png)?),
            Err(e) => {
                f.abandon();
                return Err(e);
            }
        },
        None => None,
    };
    let out = SetupOut {
        otpauth_uri: setup.otpauth_uri,
        secret: setup.secret,
        qr_png: written,
    };
    ctx.print(&out, || {
        let mut s = format!(
            "Two-factor setup started. Add Brokerdesk to your authenticator app with the URI or \
             the QR code, or type the secret in by hand:\n\n  otpauth URI  {}\n  secret       {}\n",
            out.otpauth_uri, out.secret
        );
        if let Some(p) = &out.qr_png {
            s.push_str(&format!("  QR code      {p} (PNG)\n"));
        }
        s.push_str(
            "\nThen turn it on with a code the app shows:  brokerdesk twofa enable CODE\n\
             These hold your two-factor key: do not share them, and delete the QR code once scanned.\n",
        );
        s
    });
    Ok(())
}

/// The `--qr-png` file: created (readable by its owner only) before setup, filled after.
struct QrFile {
    path: std::path::PathBuf,
    file: File,
    created: bool,
}

impl QrFile {
    fn open(path: &Path) -> Result<Self, ApiError> {
        let created = !path.exists();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path).map_err(|e| io_error(path, &e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            created,
        })
    }

    /// Removes the file if this run created it (setup failed: nothing to write).
    fn abandon(self) {
        if self.created {
            drop(self.file);
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Replaces the file's contents with `png`; returns where it is (absolute when known).
    fn write(mut self, png: &[u8]) -> Result<String, ApiError> {
        let path = self.path.clone();
        let fail = |e: std::io::Error| io_error(&path, &e);
        // A file that existed keeps its permissions on open: narrow them, it holds a key.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            self.file
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
        }
        self.file.set_len(0).map_err(fail)?;
        self.file.write_all(png).map_err(fail)?;
        self.file.sync_all().map_err(fail)?;
        let shown = std::fs::canonicalize(&self.path).unwrap_or(self.path);
        Ok(shown.display().to_string())
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> ApiError {
    error(Code::Io, format!("cannot write {}: {e}", path.display()))
}

pub async fn enable(bd: &Brokerdesk, ctx: &mut Ctx, code: Secret) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.input.secret(code, "CODE")?;
    let codes = bd.twofa_enable(code.expose()).await?;
    ctx.print(&codes, || {
        format!(
            "Two-factor authentication is on. Sensitive changes now need a code from the app \
             (pass --totp CODE to the command).\n\n{}",
            output::backup_codes(&codes.codes)
        )
    });
    Ok(())
}

pub async fn verify(bd: &Brokerdesk, ctx: &mut Ctx, code: Secret) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.input.secret(code, "CODE")?;
    let s = bd.twofa_verify(code.expose()).await?;
    ctx.print(&s, || {
        let left = if s.backup_codes_remaining < 3 {
            format!(
                "\nOnly {} backup codes left: `brokerdesk twofa backup-codes` issues new ones.\n",
                s.backup_codes_remaining
            )
        } else {
            String::new()
        };
        format!(
            "Code accepted. It opens nothing for later commands: pass --totp CODE to the \
             command that needs one.\n{left}"
        )
    });
    Ok(())
}

/// Verifies `--totp` if given. Unlike on other commands, with 2FA off it is an error here
/// (`twofa_not_enabled`), which is what the command itself would report.
async fn twofa_step_up(bd: &Brokerdesk, ctx: &mut Ctx, s: StepUp) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    if let Some(code) = ctx.totp(s)? {
        bd.twofa_verify(code.expose()).await?;
    }
    Ok(())
}

pub async fn disable(bd: &Brokerdesk, ctx: &mut Ctx, s: StepUp) -> Result<(), ApiError> {
    twofa_step_up(bd, ctx, s).await?;
    let s = bd.twofa_disable().await?;
    ctx.print(&s, || {
        "Two-factor authentication is off; its secret and backup codes were deleted.\n".to_string()
    });
    Ok(())
}

pub async fn backup_codes(bd: &Brokerdesk, ctx: &mut Ctx, s: StepUp) -> Result<(), ApiError> {
    twofa_step_up(bd, ctx, s).await?;
    let codes = bd.twofa_regenerate_backup_codes().await?;
    ctx.print(&codes, || {
        format!(
            "New backup codes issued; the previous ones no longer work.\n\n{}",
            output::backup_codes(&codes.codes)
        )
    });
    Ok(())
}
