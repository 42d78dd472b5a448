//! `brokerdesk-sim`: runs a broker simulator by hand, for demos and manual testing.
//!
//! Usage: `brokerdesk-sim oanda|alpaca|tradier|tastytrade|ibkr [--port N]`; prints the URL and the test credentials.
//! IBKR also takes `--tls`: HTTPS with a self-signed certificate made at start, like the real
//! gateway (its SHA-256 fingerprint is printed, to compare with what Brokerdesk pins).
//! Alpaca also takes `--rate N` (data messages per second, 0 = burst) and `--batch N`.

use brokerdesk_sim::{alpaca, ibkr, oanda, tastytrade, tradier, Faults, SimCert, SimServer};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let broker = args.first().map(String::as_str).unwrap_or("");
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let faults = Faults::new();
    let (router, hint) = match broker {
        "oanda" => {
            // `--rate N`: PRICE lines per second from a pre-encoded ring (0 = burst).
            let mut state = oanda::SimState::demo(faults.clone());
            if let Some(i) = args.iter().position(|a| a == "--rate") {
                match args.get(i + 1).and_then(|v| v.parse::<u64>().ok()) {
                    Some(rate) => state = state.with_stream_rate(rate),
                    None => {
                        eprintln!("--rate needs a number of lines per second (0 = burst)");
                        return std::process::ExitCode::from(2);
                    }
                }
            }
            (oanda::router(state), oanda::DEMO_HINT)
        }
        "alpaca" => {
            // `--rate N` (messages/s, 0 = burst) and `--batch N` (messages per frame).
            let state = alpaca::SimState::demo(faults.clone());
            match alpaca::StreamSettings::from_args(&args) {
                Ok(settings) => state.set_stream(settings),
                Err(e) => {
                    eprintln!("{e}");
                    return std::process::ExitCode::from(2);
                }
            }
            (alpaca::router(state), alpaca::DEMO_HINT)
        }
        "tradier" => match tradier::SimState::demo_from_args(faults.clone(), &args) {
            Ok(state) => (tradier::router(state), tradier::DEMO_HINT),
            Err(e) => {
                eprintln!("{e}; tradier takes [--rate N | --interval-ms N --batch N] [--burst]");
                return std::process::ExitCode::from(2);
            }
        },
        "tastytrade" => (
            tastytrade::router(tastytrade::SimState::demo(faults.clone())),
            tastytrade::DEMO_HINT,
        ),
        "ibkr" => (
            ibkr::router(ibkr::SimState::demo(faults.clone())),
            ibkr::DEMO_HINT,
        ),
        _ => {
            eprintln!("usage: brokerdesk-sim oanda|alpaca|tradier|tastytrade|ibkr [--port N]");
            return std::process::ExitCode::from(2);
        }
    };
    let tls = broker == "ibkr" && args.iter().any(|a| a == "--tls");
    let started = if tls {
        match SimCert::generate() {
            Ok(cert) => {
                println!("certificate SHA-256 {}", cert.fingerprint());
                SimServer::start_tls(router, faults, port, &cert).await
            }
            Err(e) => Err(e),
        }
    } else {
        SimServer::start(router, faults, port).await
    };
    match started {
        Ok(server) => {
            println!(
                "{broker} simulator on {} ({hint}); Ctrl-C stops it",
                server.url()
            );
            let _ = tokio::signal::ctrl_c().await;
            server.shutdown().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot start the simulator: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
