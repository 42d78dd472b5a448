//! `order`, `position` and `paper`: trading from the command line through the same runtime
//! the app runs (started lazily: only the account traded on is connected). A paper market
//! order waits for a fresh quote from the account's stream; a live order whose answer never
//! came is looked up by its client order id before the command returns.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::runtime::{AccountMoney, Runtime, RuntimeOptions};
use brokerdesk_core::trading::model::{Order, OrderStatus};
use brokerdesk_core::trading::modify::OrderModify;
use brokerdesk_core::trading::OrderDraft;
use brokerdesk_core::{ApiError, Brokerdesk, Code};

use super::Ctx;
use crate::args::{OrderCommand, PaperCommand, PlaceArgs, PositionCommand, ReviewCommand};
use crate::errors::error;

/// How long `order place` keeps looking up an order whose answer never came.
const SETTLE: Duration = Duration::from_secs(20);

async fn runtime(bd: &Arc<Brokerdesk>, ctx: &mut Ctx) -> Result<Arc<Runtime>, ApiError> {
    ctx.unlock(bd).await?;
    Ok(Runtime::start(
        bd.clone(),
        RuntimeOptions {
            auto_lock: false,
            backup_every: None,
            risk_watch: false,
            lazy_connections: true,
            ..RuntimeOptions::default()
        },
    )
    .await)
}

/// Runs `f` with a runtime and shuts it down afterwards, whatever the outcome.
pub(super) async fn with_runtime<T, F, Fut>(
    bd: &Arc<Brokerdesk>,
    ctx: &mut Ctx,
    f: F,
) -> Result<T, ApiError>
where
    F: FnOnce(Arc<Runtime>) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let rt = runtime(bd, ctx).await?;
    let out = f(rt.clone()).await;
    rt.shutdown().await;
    out
}

/// The short form of an order id: 8 characters, and a bracket child's role (`:sl`, `:tp`).
fn short(id: &str) -> String {
    let head: String = id.chars().take(8).collect();
    match id.rsplit_once(':') {
        Some((_, role)) => format!("{head}:{role}"),
        None => head,
    }
}

fn line(o: &Order) -> String {
    format!(
        "{:<11} {:<6} {:<4} {:>12} {:<10} {:<6} {:<16} filled {} @ {}  {}",
        short(&o.id),
        o.mode.as_str(),
        o.side.as_str(),
        o.quantity.to_string(),
        o.symbol,
        o.order_type.as_str(),
        o.status.as_str(),
        o.filled_qty,
        o.avg_fill_price
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
        o.reason.as_deref().unwrap_or("")
    )
}

fn money_text(m: &AccountMoney) -> String {
    let opt = |d: Option<brokerdesk_core::Decimal>| {
        d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
    };
    let mut s = format!(
        "{} ({}): balance {} {}, equity {}, unrealised P&L {}, day P&L {}{}\n",
        m.mode,
        m.source,
        opt(m.balance),
        m.currency,
        opt(m.equity),
        opt(m.unrealized_pnl),
        opt(m.day_pnl),
        if m.complete {
            ""
        } else {
            " (incomplete: a quote or a conversion rate is missing)"
        }
    );
    if m.positions.is_empty() {
        s.push_str("No open positions.\n");
    }
    for p in &m.positions {
        s.push_str(&format!(
            "{:<10} {:>14} avg {:<12} mark {:<12} P&L {}\n",
            p.symbol,
            p.quantity,
            opt(p.average_price),
            opt(p.mark_price),
            opt(p.unrealized_pnl)
        ));
    }
    s
}

pub async fn order(bd: &Arc<Brokerdesk>, ctx: &mut Ctx, cmd: OrderCommand) -> Result<(), ApiError> {
    match cmd {
        OrderCommand::Place(a) => place(bd, ctx, *a).await,
        OrderCommand::List { id, open } => {
            let list =
                with_runtime(bd, ctx, |rt| async move { rt.orders_list(&id, open).await }).await?;
            ctx.print(&list, || {
                if list.is_empty() {
                    "No orders.\n".to_string()
                } else {
                    list.iter().map(|o| line(o) + "\n").collect()
                }
            });
            Ok(())
        }
        OrderCommand::Show { id, order } => {
            let d = with_runtime(
                bd,
                ctx,
                |rt| async move { rt.order_show(&id, &order).await },
            )
            .await?;
            ctx.print(&d, || {
                let mut s = line(&d.order) + "\n";
                s.push_str(&format!(
                    "client order id {}, broker order id {}\n",
                    d.order.client_order_id,
                    d.order.broker_order_id.as_deref().unwrap_or("-")
                ));
                for e in &d.events {
                    s.push_str(&format!(
                        "  {}  {:<16} {}\n",
                        e.at.to_rfc3339(),
                        e.status,
                        e.detail
                    ));
                }
                for f in &d.fills {
                    s.push_str(&format!(
                        "  fill {} × {} at {}\n",
                        f.quantity,
                        f.price,
                        f.at.to_rfc3339()
                    ));
                }
                s
            });
            Ok(())
        }
        OrderCommand::Cancel { id, order } => {
            let o = with_runtime(
                bd,
                ctx,
                |rt| async move { rt.order_cancel(&id, &order).await },
            )
            .await?;
            ctx.print(&o, || line(&o) + "\n");
            Ok(())
        }
        OrderCommand::Modify {
            id,
            order,
            qty,
            price,
        } => {
            if qty.is_none() && price.is_none() {
                return Err(error(Code::Usage, "pass --qty Q, --price P or both"));
            }
            let change = OrderModify {
                quantity: qty,
                price,
            };
            let o = with_runtime(bd, ctx, |rt| async move {
                rt.order_modify(&id, &order, change).await
            })
            .await?;
            ctx.print(&o, || line(&o) + "\n");
            Ok(())
        }
        OrderCommand::Review { action: None } => {
            let list = with_runtime(bd, ctx, |rt| async move { rt.review_list().await }).await?;
            ctx.print(&list, || {
                if list.is_empty() {
                    "Nothing needs review.\n".to_string()
                } else {
                    list.iter().map(|o| line(o) + "\n").collect()
                }
            });
            Ok(())
        }
        OrderCommand::Review {
            action:
                Some(ReviewCommand::Resolve {
                    order,
                    placed,
                    not_placed,
                }),
        } => {
            if placed.is_none() && !not_placed {
                return Err(error(
                    Code::Usage,
                    "pass --placed BROKER_ID or --not-placed",
                ));
            }
            let o = with_runtime(bd, ctx, |rt| async move {
                rt.review_resolve(&order, placed).await
            })
            .await?;
            ctx.print(&o, || line(&o) + "\n");
            Ok(())
        }
    }
}

async fn place(bd: &Arc<Brokerdesk>, ctx: &mut Ctx, a: PlaceArgs) -> Result<(), ApiError> {
    let draft = OrderDraft {
        symbol: a.symbol,
        side: a.side,
        quantity: a.qty,
        order_type: a.order_type,
        price: a.price,
        time_in_force: a.tif,
        stop_loss: a.stop_loss,
        take_profit: a.take_profit,
        client_order_id: None,
    };
    let id = a.id;
    let o = with_runtime(bd, ctx, |rt| async move {
        let placed = rt.order_place(&id, draft).await?;
        // An unknown outcome is looked up by the runtime's order worker: wait for it.
        let deadline = tokio::time::Instant::now() + SETTLE;
        let mut o = placed;
        while o.status == OrderStatus::Unknown && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            o = rt.order_show(&id, &o.id).await?.order;
        }
        Ok(o)
    })
    .await?;
    ctx.print(&o, || line(&o) + "\n");
    Ok(())
}

pub async fn position(
    bd: &Arc<Brokerdesk>,
    ctx: &mut Ctx,
    cmd: PositionCommand,
) -> Result<(), ApiError> {
    match cmd {
        PositionCommand::List { id } => {
            let m = with_runtime(bd, ctx, |rt| async move { rt.account_money(&id).await }).await?;
            ctx.print(&m, || money_text(&m));
            Ok(())
        }
        PositionCommand::Close { id, symbol } => {
            let o = with_runtime(bd, ctx, |rt| async move {
                rt.position_close(&id, &symbol).await
            })
            .await?;
            ctx.print(&o, || line(&o) + "\n");
            Ok(())
        }
    }
}

pub async fn paper(bd: &Arc<Brokerdesk>, ctx: &mut Ctx, cmd: PaperCommand) -> Result<(), ApiError> {
    match cmd {
        PaperCommand::Reset { id, balance, yes } => {
            let balance = balance
                .map(|b| {
                    brokerdesk_core::money::parse(&b)
                        .map_err(|m| error(Code::Validation, format!("--balance: {m}")))
                })
                .transpose()?;
            // Losing a paper history is not undoable: a script must say --yes; a person at a
            // terminal is asked.
            if !yes && (ctx.json || !std::io::stdin().is_terminal()) {
                return Err(error(
                    Code::Usage,
                    "a paper reset drops every paper order and position: pass --yes to confirm",
                ));
            }
            ctx.confirm(yes, "Reset the paper account (cancel its paper orders, close its positions, restore the balance)?")?;
            let m = with_runtime(
                bd,
                ctx,
                |rt| async move { rt.paper_reset(&id, balance).await },
            )
            .await?;
            ctx.print(&m, || format!("Paper account reset.\n{}", money_text(&m)));
            Ok(())
        }
    }
}
