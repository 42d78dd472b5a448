//! What the window may put on the clipboard: a reference to text the core makes, never text
//! of the window's choosing. A compromised webview can therefore not plant a command, an
//! address or a link on the clipboard for the user to paste; it can only ask for one of
//! these, each of which needs the vault unlocked.

use serde::Deserialize;
use ts_rs::TS;

use super::Runtime;
use crate::error::ApiError;
use crate::secret::Secret;

/// One thing the clipboard can be given (`clipboard_copy`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
#[ts(export)]
pub enum ClipboardItem {
    /// An account's connection diagnostics report (`runtime::diagnostics`).
    Diagnostics { account_id: String },
    /// The secret of a two-factor setup not yet confirmed, in base32.
    TwofaSecret,
    /// The backup codes this app issued in the last 10 minutes, one per line.
    BackupCodes,
}

impl Runtime {
    /// The text `item` stands for, made by the core now.
    pub async fn clipboard_text(&self, item: &ClipboardItem) -> Result<Secret, ApiError> {
        match item {
            ClipboardItem::Diagnostics { account_id } => {
                Ok(Secret::new(self.diagnostics_report(account_id).await?))
            }
            ClipboardItem::TwofaSecret => self.core.twofa_pending_secret().await,
            ClipboardItem::BackupCodes => self.core.twofa_issued_codes(),
        }
    }
}
