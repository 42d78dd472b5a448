//! The runtime's events to the desktop: [`UiEvent`]s to the window (by name), the tray's
//! icon, lock item and account list (rebuilt at most every [`MENU_THROTTLE`]), and native
//! notifications. One task, started with the runtime, cancelled at shutdown.

use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::connection::manager::{AccountConnections, WorstState};
use brokerdesk_core::runtime::{Runtime, RuntimeEvent, UiEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime as TauriRuntime};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::notify::Notifier;
use crate::tray::{Tray, TrayState};

/// The shortest interval between two rebuilds of the tray's account list.
pub const MENU_THROTTLE: Duration = Duration::from_millis(500);

/// Forwards until `cancel` is cancelled or the runtime stops publishing.
pub async fn run<R: TauriRuntime>(app: AppHandle<R>, rt: Arc<Runtime>, cancel: CancellationToken) {
    let mut rx = rt.subscribe();
    let notifier = Notifier::new(app.clone());
    if let Some(tray) = app.try_state::<Tray<R>>() {
        if let Ok(status) = rt.core().status().await {
            tray.set_vault(&status);
        }
    }
    let mut last_menu: Option<Instant> = None;
    let mut menu_due: Option<Instant> = Some(Instant::now());
    loop {
        let sleep = async {
            match menu_due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            received = rx.recv() => match received {
                Ok(RuntimeEvent::Ui(event)) => {
                    match &event {
                        UiEvent::VaultStatus(status) => {
                            if let Some(tray) = app.try_state::<Tray<R>>() {
                                tray.set_vault(status);
                            }
                        }
                        UiEvent::Connection(_)
                        | UiEvent::AccountsChanged(_)
                        | UiEvent::ConnectionsChanged(_)
                        | UiEvent::OrderUpdate(_)
                        | UiEvent::OrdersChanged(_) => {
                            if let Some(tray) = app.try_state::<Tray<R>>() {
                                tray.set_state(tray_state(rt.worst_state(), &rt.connections()));
                            }
                            menu_due.get_or_insert_with(|| match last_menu {
                                Some(t) => (t + MENU_THROTTLE).max(Instant::now()),
                                None => Instant::now(),
                            });
                        }
                        _ => {}
                    }
                    if !rt.window_may_see(&event) {
                        continue;
                    }
                    if let Err(e) = app.emit(event.name(), event.payload()) {
                        tracing::warn!(error = %e, event = event.name(), "could not emit an event");
                    }
                }
                Ok(RuntimeEvent::Notify(notice)) => {
                    // Best effort: a failed notification is logged by the notifier.
                    let _ = notifier.send(&notice);
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "runtime events were missed");
                    menu_due.get_or_insert_with(Instant::now);
                }
                Err(RecvError::Closed) => break,
            },
            () = sleep => {}
        }
        let now = Instant::now();
        if menu_due.is_some_and(|at| at <= now) {
            menu_due = None;
            last_menu = Some(now);
            refresh_tray(&app, &rt).await;
        }
    }
}

/// Returns the tray state for the worst state, counting the accounts in it.
pub fn tray_state(worst: WorstState, accounts: &[AccountConnections]) -> TrayState {
    let count = accounts
        .iter()
        .filter(|a| account_worst(a) == worst)
        .count()
        .max(1);
    match worst {
        WorstState::Idle => TrayState::Idle,
        WorstState::Connected => TrayState::Connected { count },
        WorstState::Reconnecting => TrayState::Reconnecting { count },
        WorstState::Disconnected => TrayState::Disconnected { count },
    }
}

fn account_worst(a: &AccountConnections) -> WorstState {
    a.channels
        .iter()
        .map(|c| WorstState::of(&c.state))
        .max()
        .unwrap_or(WorstState::Idle)
}

/// Returns the tray menu's line for an account: "Name — state".
pub fn menu_label(a: &AccountConnections) -> String {
    let state = match account_worst(a) {
        WorstState::Idle => "idle",
        WorstState::Connected => "connected",
        WorstState::Reconnecting => "reconnecting",
        WorstState::Disconnected => "disconnected",
    };
    format!("{} — {state}", a.name)
}

/// Rebuilds the tray (state, trading lines, accounts) and the window title, which names the
/// most serious trading mode any account is in (`LIVE — REAL MONEY` with the accounts).
async fn refresh_tray<R: TauriRuntime>(app: &AppHandle<R>, rt: &Runtime) {
    let trading = rt.trading_summary().await;
    if let Some(window) = app.get_webview_window("main") {
        if let Err(e) = window.set_title(&trading.window_title()) {
            tracing::warn!(error = %e, "could not set the window title");
        }
    }
    if let Some(tray) = app.try_state::<Tray<R>>() {
        let accounts = rt.connections();
        tray.set_state(tray_state(rt.worst_state(), &accounts));
        let labels: Vec<String> = accounts.iter().map(menu_label).collect();
        tray.set_connections(&trading.tray_lines(), &labels);
    }
}
#[cfg(test)]
mod tests {
    use brokerdesk_core::accounts::model::BrokerKind;
    use brokerdesk_core::connection::manager::{Channel, ChannelStatus, LinkQuality};
    use brokerdesk_core::connection::ConnState;

    use super::*;

    fn account(name: &str, states: &[ConnState]) -> AccountConnections {
        AccountConnections {
            account_id: name.to_lowercase(),
            name: name.to_string(),
            broker: BrokerKind::Oanda,
            channels: states
                .iter()
                .map(|s| ChannelStatus {
                    channel: Channel::Order,
                    state: s.clone(),
                    connected_since: None,
                    last_message_at: None,
                    last_heartbeat_at: None,
                    latency_ms: None,
                    uptime_ms: None,
                    attempt: 0,
                    messages: 0,
                    session_expires_at: None,
                    drops_last_hour: 0,
                    quality: LinkQuality::of(s, None, 0),
                    history: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_menu_shows_each_account_s_worst_state() {
        let a = account("Main", &[ConnState::Connected, ConnState::Connecting]);
        assert_eq!(menu_label(&a), "Main — reconnecting");
        let b = account("Prop", &[ConnState::Connected]);
        assert_eq!(menu_label(&b), "Prop — connected");
    }

    #[test]
    fn the_tray_counts_the_accounts_in_the_worst_state() {
        let up = account("A", &[ConnState::Connected]);
        let down = account("B", &[ConnState::Disconnected]);
        assert_eq!(tray_state(WorstState::Idle, &[]), TrayState::Idle);
        assert_eq!(
            tray_state(WorstState::Connected, &[up.clone(), up.clone()]),
            TrayState::Connected { count: 2 }
        );
        assert_eq!(
            tray_state(WorstState::Disconnected, &[up, down]),
            TrayState::Disconnected { count: 1 }
        );
    }
}
