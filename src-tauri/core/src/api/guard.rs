//! The one door for changes: [`Brokerdesk::guard`].
//!
//! Every API method that changes the profile runs its body inside `guard`, which
//! 1. refuses unless the vault is unlocked (`locked`, `not_initialized`),
//! 2. lets the body demand a fresh two-factor step-up for a [`Sensitive`] operation
//!    ([`Gate::step_up`], `step_up_required` otherwise) — the only way to obtain the
//!    [`Authorized`] proof that the sensitive functions of the lower modules require
//!    (removing an account, storing credentials, going live, purging, changing the master
//!    password, turning 2FA off, new backup codes, trusting a new gateway certificate, setting the backup passphrase, exporting credentials), so a sensitive operation cannot be
//!    written without passing here,
//! 3. on success writes the audit entries the body queued and publishes its domain events
//!    (the runtime re-syncs connections on them), and on failure drops both.
//!
//! `tests/step_up.rs` enumerates [`Sensitive::ALL`] and checks each is refused without a
//! code and changes nothing.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::events::DomainEvent;
use super::{api, Brokerdesk};
use crate::audit::AuditEvent;
use crate::error::ApiError;
use crate::vault::Unlocked;

/// The operations that need a fresh two-factor step-up (once 2FA is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sensitive {
    /// Storing or replacing an account's credentials.
    StoreCredentials,
    /// Sending stored credentials to another environment or endpoint (an edit, or a
    /// "Test connection" of an edited draft): the connection would send them there.
    MoveCredentials,
    RemoveAccount,
    SwitchToLive,
    ChangePassword,
    PurgeCredentials,
    DisableTwofa,
    RegenerateBackupCodes,
    /// Loosening an account's risk protection (a higher limit, a rule removed, wider hours).
    LoosenRisk,
    /// Putting a suspended or in-drawdown account back to active by hand.
    ReactivateAccount,
    /// Trusting a new TLS certificate for an account's IBKR gateway (replacing the pin the
    /// connection checks the gateway against).
    TrustCertificate,
    /// Setting or changing the backup passphrase (it opens every backup made after).
    SetBackupPassphrase,
    /// Exporting the configuration with the accounts' credentials (sealed with a passphrase).
    ExportCredentials,
}

impl Sensitive {
    /// Whether the operation is an emergency action that never waits for a code (not even
    /// during a lockout someone caused on purpose with wrong codes): purging every stored
    /// credential only removes secrets and moves every account to paper, like the kill switch
    /// (which is not sensitive at all) only stops trading. Both are audited.
    pub fn is_emergency(self) -> bool {
        matches!(self, Sensitive::PurgeCredentials)
    }

    /// Whether the operation needs a code entered for it (verified in the last minute and
    /// used by no other such operation), not just an open window: the ones that weaken
    /// two-factor itself.
    pub fn needs_own_code(self) -> bool {
        matches!(
            self,
            Sensitive::DisableTwofa | Sensitive::RegenerateBackupCodes
        )
    }

    /// Every sensitive operation.
    pub const ALL: &'static [Sensitive] = &[
        Sensitive::StoreCredentials,
        Sensitive::MoveCredentials,
        Sensitive::RemoveAccount,
        Sensitive::SwitchToLive,
        Sensitive::ChangePassword,
        Sensitive::PurgeCredentials,
        Sensitive::DisableTwofa,
        Sensitive::RegenerateBackupCodes,
        Sensitive::LoosenRisk,
        Sensitive::ReactivateAccount,
        Sensitive::TrustCertificate,
        Sensitive::SetBackupPassphrase,
        Sensitive::ExportCredentials,
    ];
}

/// Proof that the guard demanded (and got) a fresh step-up for `op`. Only [`Gate::step_up`]
/// can make one: its field is private to this module.
#[derive(Debug)]
pub struct Authorized {
    op: Sensitive,
}

impl Authorized {
    /// A proof for unit tests of the lower modules (never compiled into the app).
    #[cfg(test)]
    pub(crate) fn for_tests(op: Sensitive) -> Self {
        Self { op }
    }

    /// Returns the operation this proof was issued for.
    pub fn op(&self) -> Sensitive {
        self.op
    }
}

#[derive(Default)]
struct Pending {
    audit: Vec<(AuditEvent, Option<String>, String)>,
    events: Vec<DomainEvent>,
}

/// What a guarded body can do besides its work: demand the step-up, queue audit entries and
/// domain events. Cheap to clone.
#[derive(Clone)]
pub struct Gate<'a> {
    bd: &'a Brokerdesk,
    key: Arc<Unlocked>,
    pending: Arc<Mutex<Pending>>,
}

impl Gate<'_> {
    /// Returns the unlocked data key.
    pub fn key(&self) -> &Arc<Unlocked> {
        &self.key
    }

    /// Demands a fresh step-up for `op`: fails with `step_up_required` unless 2FA is off or
    /// this process verified a code in the last 15 minutes. Turning 2FA off and new backup
    /// codes need a code entered for them (see [`Sensitive::needs_own_code`]).
    pub async fn step_up(&self, op: Sensitive) -> Result<Authorized, ApiError> {
        if op.is_emergency() {
            return Ok(Authorized { op });
        }
        self.bd
            .twofa
            .require_step_up(op.needs_own_code())
            .await
            .map_err(api)?;
        Ok(Authorized { op })
    }

    /// Queues an audit entry, written when the body succeeds.
    pub fn audit(&self, event: AuditEvent, account_id: Option<&str>, detail: impl Into<String>) {
        self.pending()
            .audit
            .push((event, account_id.map(str::to_string), detail.into()));
    }

    /// Queues a domain event, published when the body succeeds.
    pub fn publish(&self, event: DomainEvent) {
        self.pending().events.push(event);
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Brokerdesk {
    /// Runs a change: unlocked or refused, step-up on demand, audited and published on
    /// success (see the module docs).
    pub(crate) async fn guard<'a, T, F, Fut>(&'a self, body: F) -> Result<T, ApiError>
    where
        F: FnOnce(Gate<'a>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let key = self.vault.unlocked().await.map_err(api)?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let gate = Gate {
            bd: self,
            key,
            pending: pending.clone(),
        };
        let value = body(gate).await?;
        let Pending { audit, events } =
            std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()));
        for (event, account, detail) in audit {
            self.audit.record(event, account.as_deref(), &detail).await;
        }
        for event in events {
            self.publish(event);
        }
        Ok(value)
    }
}
