//! `export`: the configuration as JSON or YAML, on stdout or in a new file.

use brokerdesk_core::portable::ExportFormat;
use brokerdesk_core::{ApiError, Brokerdesk, Code};

use super::Ctx;
use crate::args::{ExportArgs, ExportFormatArg};
use crate::errors::error;

pub async fn export(bd: &Brokerdesk, ctx: &mut Ctx, a: ExportArgs) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let format = match a.format {
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::Yaml => ExportFormat::Yaml,
    };
    let text = bd.config_export_text(format, &a.accounts).await?;
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
    ctx.print(&serde_json::json!({ "path": shown }), || {
        format!("exported to {shown} (no credentials)")
    });
    Ok(())
}
