//! The gateway's two sessions (login and brokerage bridge) and the session endpoints:
//! `/tickle`, `/iserver/auth/status`, `/iserver/auth/ssodh/init`, `/iserver/reauthenticate`,
//! `/logout`. The login check itself is the router's `require_login` layer.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{json_response, lock, SimState};

/// The gateway's session state.
#[derive(Debug)]
pub(crate) struct Gateway {
    /// The login session id (hex), while logged in.
    session: Option<String>,
    /// The fault epoch at login; a later [`crate::Faults::expire_sessions`] ends the session.
    epoch: u64,
    /// The brokerage session is open.
    pub bridge: bool,
    /// `GET /iserver/accounts` was called since the bridge opened.
    pub accounts_queried: bool,
    last_tickle: Instant,
    pub idle_timeout: Duration,
}

impl Gateway {
    pub(crate) fn logged_in(epoch: u64, idle_timeout: Duration) -> Self {
        let mut g = Self {
            session: None,
            epoch,
            bridge: false,
            accounts_queried: false,
            last_tickle: Instant::now(),
            idle_timeout,
        };
        g.login(epoch);
        g
    }

    /// A browser login: a fresh session; the login page opens the bridge too.
    pub(crate) fn login(&mut self, epoch: u64) {
        self.session = Some(uuid::Uuid::new_v4().simple().to_string());
        self.epoch = epoch;
        self.bridge = true;
        self.accounts_queried = false;
        self.last_tickle = Instant::now();
    }

    pub(crate) fn logout(&mut self) {
        self.session = None;
        self.close_bridge();
    }

    pub(crate) fn close_bridge(&mut self) {
        self.bridge = false;
        self.accounts_queried = false;
    }

    pub(crate) fn open_bridge(&mut self) {
        if !self.bridge {
            self.bridge = true;
            self.accounts_queried = false;
        }
    }

    /// Logs out when the session is idle too long or from an expired epoch.
    pub(crate) fn expire_if_due(&mut self, epoch: u64) {
        let idle = self.last_tickle.elapsed() >= self.idle_timeout;
        if self.session.is_some() && (idle || epoch != self.epoch) {
            self.logout();
        }
    }

    /// The live session id (call [`Gateway::expire_if_due`] first).
    pub(crate) fn current(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Keeps the session alive (`/tickle`, WebSocket `tic`).
    pub(crate) fn touch(&mut self) {
        self.last_tickle = Instant::now();
    }

    /// `authStatus` as `/iserver/auth/status` and `/tickle` report it.
    pub(crate) fn auth_status(&self) -> Value {
        json!({
            "authenticated": self.bridge,
            "competing": false,
            "connected": true,
            "message": "",
            "MAC": "98:F2:B3:23:BF:A0",
            "serverInfo": {"serverName": "JifN19053", "serverVersion": "Build 10.30.1s, Jun 2 2026"},
            "fail": "",
        })
    }
}

pub(crate) async fn tickle(State(s): State<SimState>) -> Response {
    let body = s.gateway(|g| {
        g.touch();
        let hmds = if g.bridge {
            json!({"authStatus": "authenticated"})
        } else {
            json!({"error": "no bridge"})
        };
        json!({
            "session": g.current().unwrap_or_default(),
            "ssoExpires": u64::try_from(g.idle_timeout.as_millis()).unwrap_or(u64::MAX),
            "collission": false,
            "userId": 12345678,
            "hmds": hmds,
            "iserver": {"authStatus": g.auth_status()},
        })
    });
    json_response(StatusCode::OK, &body)
}

pub(crate) async fn auth_status(State(s): State<SimState>) -> Response {
    json_response(StatusCode::OK, &s.gateway(|g| g.auth_status()))
}

/// `{"publish":true,"compete":true}` is what clients send; the simulator opens the bridge
/// whatever the body says.
pub(crate) async fn ssodh_init(State(s): State<SimState>) -> Response {
    let mut body = s.gateway(|g| {
        g.open_bridge();
        g.auth_status()
    });
    if let Some(o) = body.as_object_mut() {
        o.remove("fail");
        o.insert("passed".into(), Value::Bool(true));
    }
    json_response(StatusCode::OK, &body)
}

pub(crate) async fn reauthenticate(State(s): State<SimState>) -> Response {
    s.gateway(Gateway::open_bridge);
    json_response(StatusCode::OK, &json!({"message": "triggered"}))
}

pub(crate) async fn logout(State(s): State<SimState>) -> Response {
    lock(&s.inner.gateway).logout();
    json_response(StatusCode::OK, &json!({"status": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_ends_when_idle_or_expired_and_a_new_login_has_a_new_session() {
        let mut g = Gateway::logged_in(0, Duration::from_millis(30));
        let first = g.current().map(str::to_string);
        assert!(first.is_some() && g.bridge);
        std::thread::sleep(Duration::from_millis(20));
        g.touch();
        std::thread::sleep(Duration::from_millis(20));
        g.expire_if_due(0);
        assert!(g.current().is_some(), "touch refreshed the idle timer");
        std::thread::sleep(Duration::from_millis(40));
        g.expire_if_due(0);
        assert!(g.current().is_none() && !g.bridge);

        g.login(1);
        assert!(g.current().is_some() && g.current().map(str::to_string) != first);
        g.expire_if_due(2);
        assert!(g.current().is_none(), "a newer fault epoch logs out");
    }
}
