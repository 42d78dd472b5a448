//! Gateway certificate pins over the API (IBKR's Client Portal gateway on this machine serves
//! a self-signed certificate; `brokers/pin.rs`): the pin every connector of an account starts
//! with, what a connector learns (the certificate pinned on first use) or refuses (another
//! certificate) recorded with the account, and trusting a new certificate by hand — a
//! sensitive operation ([`Sensitive::TrustCertificate`]).

use std::sync::Arc;

use tokio::sync::broadcast;
use url::Url;

use super::guard::Sensitive;
use super::{api, Brokerdesk, DomainEvent};
use crate::accounts::model::{Account, BrokerKind};
use crate::audit::{Audit, AuditEvent};
use crate::brokers::pin::{Fingerprint, PinState, TlsPin};
use crate::brokers::ConnectorConfig;
use crate::error::{ApiError, Code, FieldCode, FieldError};
use crate::store::Store;

/// Serialises [`PinRecorder::record`] across the process (pins change rarely).
static RECORDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Writes what a connector's pin learned or refused, from any task (see
/// [`Brokerdesk::gateway_pin`]).
#[derive(Clone)]
struct PinRecorder {
    store: Store,
    vault: Arc<crate::vault::Vault>,
    audit: Audit,
    events: broadcast::Sender<DomainEvent>,
    account_id: String,
    name: String,
    origin: String,
}

impl PinRecorder {
    /// Records `state`: a pin learned on first use (unless the account has one for this
    /// origin already), a refused certificate (once per certificate). Each is audited and
    /// announced once; repeating it changes nothing.
    async fn record(&self, state: &PinState) {
        // One recording at a time (the pin and its audit entry are one transaction; this
        // keeps the connector's task and a caller waiting for its own check, `record_pin`,
        // from both doing the work).
        let _one = RECORDING.lock().await;
        let Some(pinned) = state.pinned else { return };
        let (id, name, origin) = (&self.account_id, &self.name, &self.origin);
        let actor = self.audit.actor();
        if state.learned {
            let detail = format!(
                "{name}: the IBKR gateway's certificate at {origin} pinned on first use: SHA-256 {pinned}"
            );
            let record = crate::accounts::Record {
                actor,
                event: AuditEvent::CertificatePinned,
                detail: &detail,
            };
            let pinned = pinned.to_string();
            match crate::accounts::pin_first_use(
                &self.store,
                &self.vault,
                id,
                origin,
                &pinned,
                record,
            )
            .await
            {
                Ok(true) => self.changed(),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(account = %id, error = %e, "could not record the gateway's certificate pin")
                }
            }
        }
        if let Some(refused) = state.refused {
            let detail = format!(
                "{name}: the IBKR gateway at {origin} presented another certificate (SHA-256 {refused}) than the pinned one (SHA-256 {pinned}); refused, nothing was sent"
            );
            let record = crate::accounts::Record {
                actor,
                event: AuditEvent::CertificateRefused,
                detail: &detail,
            };
            match crate::accounts::pin_refused(
                &self.store,
                &self.vault,
                id,
                origin,
                &pinned.to_string(),
                &refused.to_string(),
                record,
            )
            .await
            {
                Ok(true) => self.changed(),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(account = %id, error = %e, "could not record a refused gateway certificate")
                }
            }
        }
    }

    fn changed(&self) {
        let _ = self.events.send(DomainEvent::AccountChanged {
            account_id: self.account_id.clone(),
        });
    }
}

/// The gateway URL of an account whose certificate is pinned (IBKR, https, this machine).
fn pinned_gateway(account: &Account, rest_url: &str) -> Option<Url> {
    if account.broker != BrokerKind::Ibkr {
        return None;
    }
    let url = Url::parse(rest_url).ok()?;
    (url.scheme() == "https" && crate::brokers::http::is_loopback(&url)).then_some(url)
}

impl Brokerdesk {
    /// The certificate pin a connector of `account` starts with (`cfg`: its configuration):
    /// for an IBKR gateway on this machine over https, the stored pin when it was made for
    /// that host and port, else none (the connector pins the first certificate it sees).
    /// What the connector then learns or refuses is recorded with the account as it happens
    /// (a task that ends with the connector). `None` for every other account.
    pub(super) fn gateway_pin(
        &self,
        account: &Account,
        cfg: &ConnectorConfig,
    ) -> Option<Arc<TlsPin>> {
        let url = pinned_gateway(account, &cfg.rest_url)?;
        let origin = TlsPin::for_url(&url, None).ok()?.origin();
        let stored = account
            .tls_pin
            .as_ref()
            .filter(|p| p.origin == origin)
            .and_then(|p| match p.sha256.parse::<Fingerprint>() {
                Ok(fp) => Some(fp),
                Err(e) => {
                    tracing::warn!(account = %account.id, error = %e, "the stored certificate pin does not read; pinning again on first use");
                    None
                }
            });
        let pin = TlsPin::for_url(&url, stored).ok()?;
        let recorder = self.pin_recorder(account, &origin);
        let mut changes = pin.subscribe();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                // Ends when the pin (the connector) is dropped.
                while changes.changed().await.is_ok() {
                    let state = changes.borrow_and_update().clone();
                    recorder.record(&state).await;
                }
            });
        }
        Some(pin)
    }

    /// Records what `pin` learned or refused now (the background task does it too; a caller
    /// that is about to exit, like the CLI after `account verify`, waits for it here).
    pub(super) async fn record_pin(&self, account: &Account, pin: &TlsPin) {
        self.pin_recorder(account, &pin.origin())
            .record(&pin.state())
            .await;
    }

    fn pin_recorder(&self, account: &Account, origin: &str) -> PinRecorder {
        PinRecorder {
            store: self.store.clone(),
            vault: self.vault.clone(),
            audit: self.audit.clone(),
            events: self.events.clone(),
            account_id: account.id.clone(),
            name: account.name.clone(),
            origin: origin.to_string(),
        }
    }

    /// Trusts a new certificate for an account's IBKR gateway (after the connection was
    /// refused with `certificate_changed`, or the gateway's certificate was replaced): pins
    /// `fingerprint` (SHA-256, `AA:BB:…`) for the gateway's host and port. Sensitive (a
    /// step-up), audited; the account's connections restart with the new pin.
    pub async fn account_trust_certificate(
        &self,
        key: &str,
        fingerprint: &str,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let account = self.accounts.get(key).await.map_err(api)?;
            let fp: Fingerprint = fingerprint.parse().map_err(|e| {
                ApiError::invalid(vec![FieldError::new(
                    "fingerprint",
                    FieldCode::Invalid,
                    format!("{e}"),
                )])
            })?;
            let cfg = ConnectorConfig::new(
                account.broker,
                account.environment,
                None,
                account.rest_url.as_deref(),
                account.stream_url.as_deref(),
            )
            .map_err(api)?;
            let Some(url) = pinned_gateway(&account, &cfg.rest_url) else {
                return Err(ApiError::new(
                    Code::BrokerUnsupported,
                    format!(
                        "{} has no pinned certificate: only an IBKR gateway on this machine over https is pinned; other endpoints are verified by the system's trust store",
                        account.name
                    ),
                ));
            };
            let origin = TlsPin::for_url(&url, None).map_err(api)?.origin();
            let auth = g.step_up(Sensitive::TrustCertificate).await?;
            let was = match &account.tls_pin {
                Some(p) if p.origin == origin => format!("SHA-256 {}", p.sha256),
                Some(p) => format!("a pin for {}", p.origin),
                None => "no pin".into(),
            };
            let notes = |a: &Account| {
                vec![(
                    AuditEvent::CertificateTrusted,
                    format!(
                        "{}: the IBKR gateway's certificate at {origin} trusted: SHA-256 {fp} (was {was})",
                        a.name
                    ),
                )]
            };
            let a = self
                .accounts
                .pin_trusted(&auth, &account.id, &origin, &fp.to_string(), &notes)
                .await
                .map_err(api)?;
            g.publish(DomainEvent::AccountChanged {
                account_id: a.id.clone(),
            });
            Ok(a)
        })
        .await
    }
}
