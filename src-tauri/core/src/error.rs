//! The error shape that crosses process boundaries (Tauri IPC, the CLI's `--json`).
//!
//! Every module has its own `thiserror` enum; each implements [`ErrorCode`] so it maps to a
//! stable machine code plus a human message. The UI branches on `code`, never on text.

use serde::Serialize;
use ts_rs::TS;

/// One invalid input field, addressed by its path in the input (`name`, `credentials.apiKey`,
/// `risk.maxLeverage`, `instruments`, `tradingHours.start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The serializable error every command returns: a stable `code`, a human `message`, and the
/// per-field problems when the input was invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        for fe in &self.fields {
            write!(f, "\n  {}: {}", fe.field, fe.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Maps a module error to its stable code.
pub trait ErrorCode: std::error::Error {
    /// Returns the stable machine-readable code (snake_case).
    fn code(&self) -> &'static str;

    /// Returns the per-field problems, if this is a validation error.
    fn fields(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Converts into the serializable shape.
    fn to_api_error(&self) -> ApiError {
        ApiError {
            code: self.code().to_string(),
            message: self.to_string(),
            fields: self.fields(),
        }
    }
}
