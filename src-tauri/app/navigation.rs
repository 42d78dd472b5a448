//! The window never leaves the app: a navigation to anything but the app's own origin is
//! refused, and web links (`http`, `https`) open in the user's browser instead, so a link in
//! a broker's error text or a compromised page cannot turn the window (which can call the
//! app's commands) into someone else's site.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Manager, Runtime, Url};
use tauri_plugin_opener::OpenerExt;

/// Returns whether `url` is the app's own content: the bundled UI (`tauri://localhost`,
/// `http(s)://tauri.localhost` on Windows) or the development server of `tauri dev`.
pub fn is_app_origin(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => match url.host_str() {
            Some("tauri.localhost") => true,
            Some("localhost") => cfg!(debug_assertions) && url.port() == Some(1420),
            _ => false,
        },
        _ => false,
    }
}

/// The guard, as a plugin (its `on_navigation` hook sees every navigation of every webview).
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            if is_app_origin(url) {
                return true;
            }
            if matches!(url.scheme(), "http" | "https") {
                tracing::info!(
                    host = url.host_str().unwrap_or(""),
                    "opening a link in the browser"
                );
                if let Err(e) = webview
                    .app_handle()
                    .opener()
                    .open_url(url.as_str(), None::<&str>)
                {
                    tracing::warn!(error = %e, "could not open the link in the browser");
                }
            } else {
                tracing::warn!(scheme = url.scheme(), "refused a navigation out of the app");
            }
            false
        })
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn only_the_app_s_own_origin_is_allowed() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html",
            "http://tauri.localhost/",
        ] {
            assert!(is_app_origin(&Url::parse(ok).unwrap()), "{ok}");
        }
        for no in [
            "https://evil.example.com/",
            "http://localhost:8080/",
            "file:///etc/passwd",
            "tauri://evil/",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            assert!(!is_app_origin(&Url::parse(no).unwrap()), "{no}");
        }
    }
}
