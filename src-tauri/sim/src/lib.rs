//! Local simulators that speak each broker's real wire protocol (REST, WebSocket, HTTP
//! chunked streams) on 127.0.0.1, with fault injection, for tests, benchmarks and demo mode.
//!
//! This crate is part of the workspace layout from the start so that the connectors issue
//! can add one simulator per broker here (`oanda`, `alpaca`, `tradier`, `tastytrade`,
//! `ibkr`) without reshaping the project. The foundation release talks to no broker, so
//! there is nothing to simulate yet and the crate deliberately exports nothing.
