//! Instrument search, against every broker of [`BROKERS`]: what each query finds on the
//! broker's simulator (its symbols, names and kinds as data in the row's
//! [`Search`](super::Search)), queries that find nothing (a blank one among them), and
//! refused credentials as a final auth error without a secret in it.

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::stream::InstrumentInfo;

use super::{assert_final_auth, refusing, start, Connector, Symbols, BROKERS};

/// What `q` finds, failing on an error.
async fn search(b: BrokerKind, connector: &dyn Connector, q: &str) -> Vec<InstrumentInfo> {
    connector
        .search_instruments(q)
        .await
        .unwrap_or_else(|e| panic!("{b}: {q:?}: {e:?}"))
}

#[tokio::test]
async fn search_finds_what_each_broker_lists_and_nothing_for_the_rest() {
    for entry in BROKERS {
        let b = entry.kind;
        let (_sim, connector) = start(entry).await;
        for find in entry.search.finds {
            let q = find.query;
            let hits = search(b, connector.as_ref(), q).await;
            let symbols: Vec<&str> = hits.iter().map(|h| h.symbol.as_str()).collect();
            match find.symbols {
                Symbols::Exactly(want) => assert_eq!(symbols, want, "{b}: {q:?}"),
                Symbols::First(want) => {
                    assert_eq!(symbols.first(), Some(&want), "{b}: {q:?}: {symbols:?}")
                }
                Symbols::AtLeast(n) => assert!(symbols.len() >= n, "{b}: {q:?}: {symbols:?}"),
                Symbols::Capped {
                    at_most,
                    prefix,
                    leading,
                } => {
                    assert!(
                        !symbols.is_empty() && symbols.len() <= at_most,
                        "{b}: {q:?}: {} hits",
                        symbols.len()
                    );
                    let led = symbols.iter().take_while(|s| s.starts_with(prefix));
                    assert!(led.count() >= leading, "{b}: {q:?}: {symbols:?}");
                }
            }
            for &(i, name, kind) in find.hits {
                let hit = &hits[i];
                if name.is_some() {
                    assert_eq!(hit.name.as_deref(), name, "{b}: {q:?} hit {i}");
                }
                if kind.is_some() {
                    assert_eq!(hit.kind.as_deref(), kind, "{b}: {q:?} hit {i}");
                }
            }
        }
        for q in entry.search.nothing {
            let hits = search(b, connector.as_ref(), q).await;
            assert!(hits.is_empty(), "{b}: {q:?} found {hits:?}");
        }
    }
}

#[tokio::test]
async fn a_search_with_refused_credentials_is_an_auth_error_without_a_secret() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = refusing(entry).await;
        let q = entry.search.finds[0].query;
        let e = sim.err(b, connector.search_instruments(q).await);
        assert_final_auth(b, &e);
        sim.server.faults().set(None);

        if let Some((wrong, _)) = entry.wrong_connector(&sim) {
            let e = sim.err(b, wrong.search_instruments(q).await);
            assert_final_auth(b, &e);
        }
    }
}
