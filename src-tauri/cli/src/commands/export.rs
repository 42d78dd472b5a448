//! `export`: the configuration as JSON or YAML, on stdout or in a new file; with
//! `--with-credentials`, the credentials sealed with a passphrase asked twice.

use brokerdesk_core::portable::ExportFormat;
use brokerdesk_core::{ApiError, Brokerdesk, Code};

use super::{step_up, Ctx};
use crate::args::{ExportArgs, ExportFormatArg};
use crate::errors::error;

pub async fn export(bd: &Brokerdesk, ctx: &mut Ctx, a: ExportArgs) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let format = match a.format {
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::Yaml => ExportFormat::Yaml,
    };
    // Stdin order: the password line, the passphrase twice, then the code.
    let passphrase = if a.with_credentials {
        Some(ctx.input.new_passphrase("Passphrase for the credentials")?)
    } else {
        None
    };
    if a.with_credentials {
        let code = ctx.totp(a.step_up)?;
        step_up(bd, code).await?;
    }
    let text = bd
        .config_export_text(format, &a.accounts, passphrase)
        .await?;
    let Some(path) = a.out else {
        print!("{text}");
        return Ok(());
    };
    brokerdesk_core::exports::create_private(&path, &text).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
            Code::Usage
        } else {
            Code::ExportFailed
        };
        error(code, format!("could not write {}: {e}", path.display()))
    })?;
    let shown = path.display().to_string();
    let what = if a.with_credentials {
        "credentials sealed with the passphrase"
    } else {
        "no credentials"
    };
    ctx.print(
        &serde_json::json!({ "path": shown, "withCredentials": a.with_credentials }),
        || format!("exported to {shown} ({what})\n"),
    );
    Ok(())
}
