//! The routes: the API, the event socket, the UI's files and (optionally) the test controls.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use brokerdesk_core::api::commands::{self, Ctx};
use brokerdesk_core::runtime::{Runtime, RuntimeEvent};
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;

use crate::dev::{self, Sims};
use crate::host::DevHost;

/// The window's Content-Security-Policy (the app's, with the event socket allowed).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:*; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub host: Arc<DevHost>,
    pub ui: Option<Arc<PathBuf>>,
    pub sims: Arc<Sims>,
    pub test_controls: bool,
}

impl AppState {
    pub fn new(runtime: Arc<Runtime>, ui: Option<PathBuf>, test_controls: bool) -> Self {
        Self {
            runtime,
            host: Arc::new(DevHost::default()),
            ui: ui.map(Arc::new),
            sims: Arc::new(Sims::default()),
            test_controls,
        }
    }
}

/// Serves until `shutdown` resolves. Prints the URL as the first line on stdout.
pub async fn serve(
    state: AppState,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!("{}", serde_json::json!({ "url": format!("http://{addr}") }));
    // Notifications the runtime sends are recorded, as a desktop would show them.
    let (host, mut rx) = (state.host.clone(), state.runtime.subscribe());
    let recorder = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(RuntimeEvent::Notify(n)) => host.record(n),
                Ok(RuntimeEvent::Ui(_)) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
    let sims = state.sims.clone();
    let mut app = Router::new()
        .route("/api/{command}", post(call))
        .route("/events", get(events));
    if state.test_controls {
        app = app.nest("/dev", dev::routes());
    }
    let app = app.fallback(any(files)).with_state(state);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    recorder.abort();
    sims.stop_all().await;
    served
}

async fn call(
    State(state): State<AppState>,
    UrlPath(command): UrlPath<String>,
    body: Option<Json<serde_json::Value>>,
) -> Response {
    if !commands::COMMANDS.contains(&command.as_str()) {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"code": "internal", "message": format!("no command named {command:?}"), "fields": []})),
        )
            .into_response();
    }
    let args = body.map(|Json(v)| v).unwrap_or(serde_json::Value::Null);
    let cx = Ctx {
        runtime: &state.runtime,
        host: state.host.as_ref(),
    };
    match commands::dispatch(&cx, &command, args).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(e)).into_response(),
    }
}

async fn events(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| pump(socket, state.runtime))
}

/// Sends every window event to one socket until either side goes away. The socket has this
/// one owner; a lagging browser misses events (it re-reads on the next one).
async fn pump(mut socket: WebSocket, runtime: Arc<Runtime>) {
    let mut rx = runtime.subscribe();
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(RuntimeEvent::Ui(e)) if runtime.window_may_see(&e) => {
                    let text = serde_json::json!({ "event": e.name(), "payload": e.payload() }).to_string();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn files(State(state): State<AppState>, uri: Uri) -> Response {
    let Some(root) = state.ui.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "no UI is served (start with --ui DIR)",
        )
            .into_response();
    };
    let path = uri.path().trim_start_matches('/');
    let relative = Path::new(if path.is_empty() { "index.html" } else { path });
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    let file = root.join(relative);
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            headers.insert("content-security-policy", HeaderValue::from_static(CSP));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
