//! The account status machine.
//!
//! ```text
//! active ──▶ suspended      manual, the kill switch, or the total budget's safety buffer
//! active ──▶ in_drawdown    the daily limit (or its safety buffer) reached
//! in_drawdown ──▶ active    at the next reset or when the day's loss is recovered (by
//!                           itself), or manual with a step-up
//! in_drawdown ──▶ suspended manual, or the total budget's safety buffer
//! suspended ──▶ active      manual, with a step-up
//! any ──▶ terminated        a hard breach, or manual; terminated is final
//! ```
//!
//! What each allows is enforced by the pre-trade checks (`risk::check`): suspended = no new
//! positions, in drawdown = close-only, terminated = no orders at all.

use crate::accounts::model::AccountStatus;
use crate::error::{ApiError, Code};

/// Whether moving `from` → `to` is allowed, and whether a person doing it needs a step-up
/// (reactivating loosens protection; everything else tightens it).
pub fn transition(from: AccountStatus, to: AccountStatus) -> Result<bool, ApiError> {
    use AccountStatus::{Active, InDrawdown, Suspended, Terminated};
    let ok = match (from, to) {
        (a, b) if a == b => return Ok(false),
        (Terminated, _) => false,
        (_, Terminated) => true,
        (Active, Suspended | InDrawdown) => true,
        (InDrawdown, Active | Suspended) => true,
        (Suspended, Active) => true,
        (Suspended, InDrawdown) => false,
        _ => false,
    };
    if !ok {
        return Err(ApiError::new(
            Code::IllegalStatusTransition,
            match from {
                Terminated => {
                    "a terminated account stays terminated: add a new account instead".to_string()
                }
                _ => format!("an account cannot go from {from} to {to}"),
            },
        ));
    }
    Ok(to == Active)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountStatus::{Active, InDrawdown, Suspended, Terminated};

    #[test]
    fn every_pair() {
        let cases = [
            (Active, Suspended, Some(false)),
            (Active, InDrawdown, Some(false)),
            (Active, Terminated, Some(false)),
            (InDrawdown, Active, Some(true)),
            (InDrawdown, Suspended, Some(false)),
            (InDrawdown, Terminated, Some(false)),
            (Suspended, Active, Some(true)),
            (Suspended, InDrawdown, None),
            (Suspended, Terminated, Some(false)),
            (Terminated, Active, None),
            (Terminated, Suspended, None),
            (Terminated, InDrawdown, None),
            (Active, Active, Some(false)),
            (Terminated, Terminated, Some(false)),
        ];
        for (from, to, want) in cases {
            let got = transition(from, to);
            match want {
                Some(step_up) => assert_eq!(got.unwrap(), step_up, "{from} → {to}"),
                None => assert_eq!(
                    got.unwrap_err().code,
                    Code::IllegalStatusTransition,
                    "{from} → {to}"
                ),
            }
        }
    }
}
