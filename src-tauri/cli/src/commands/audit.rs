//! `audit list` (table, JSON or CSV) and `audit verify` (the hash chain).

use brokerdesk_core::audit::AuditFilter;
use brokerdesk_core::Code;
use brokerdesk_core::{ApiError, Brokerdesk};

use super::{Ctx, Failure};
use crate::args::AuditListArgs;
use crate::errors::error;
use crate::output;

pub async fn list(bd: &Brokerdesk, ctx: &mut Ctx, a: AuditListArgs) -> Result<(), ApiError> {
    if a.csv && ctx.json {
        return Err(error(
            Code::Usage,
            "--csv and --json both choose the output: give one of them",
        ));
    }
    ctx.unlock(bd).await?;
    let account_id = match a.account {
        None => None,
        // A current account by id, prefix or name; else the text as a full id, which is how
        // the entries of a removed account are found.
        Some(key) => Some(match bd.account_get(&key).await {
            Ok(account) => account.id,
            Err(e) if e.code == Code::NotFound => key,
            Err(e) => return Err(e),
        }),
    };
    let filter = AuditFilter {
        events: a.events,
        account_id,
        since: a.since,
        until: a.until,
        search: a.search,
        limit: a.limit,
    };
    if a.csv {
        print!("{}", bd.audit_export_csv(&filter).await?);
        return Ok(());
    }
    let entries = bd.audit_list(&filter).await?;
    ctx.print(&entries, || {
        let mut out = output::audit_table(&entries);
        let limit = filter.limit.unwrap_or(500);
        if entries.len() == usize::try_from(limit).unwrap_or(usize::MAX) {
            out.push_str(&format!(
                "(the newest {limit} entries; --limit N shows more, filters narrow it down)\n"
            ));
        }
        out
    });
    Ok(())
}

/// Exit 0 when the chain is intact. A broken chain is the error `audit_tampered` (exit 1);
/// with `--json` its one document is the verification result plus the `error` member.
pub async fn verify(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), Failure> {
    ctx.unlock(bd).await?;
    let v = bd.audit_verify().await?;
    if v.ok {
        ctx.print(&v, || format!("intact: {} entries\n", v.entries));
        return Ok(());
    }
    let e = error(Code::AuditTampered, v.message.clone());
    if !ctx.json {
        return Err(Failure::Error(e));
    }
    let mut doc = serde_json::to_value(&v)
        .map_err(|err| error(Code::Internal, format!("cannot encode the result: {err}")))?;
    if let Some(map) = doc.as_object_mut() {
        map.insert("error".into(), serde_json::to_value(&e).unwrap_or_default());
    }
    output::json(&doc);
    Err(Failure::Reported(e))
}
