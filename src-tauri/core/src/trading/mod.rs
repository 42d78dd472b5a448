//! Trading: orders with decimal money, the order state machine ([`model`]), their storage
//! with compare-and-set ([`store`]), and sending live orders so that none is sent twice or
//! lost ([`oms`]).

pub mod model;
pub mod oms;
pub mod paper_desk;
pub mod store;
