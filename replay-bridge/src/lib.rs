//! replay-bridge: the only native part of Streamglass.
//!
//! It turns a Kafka topic, or a [recording](recording) of one, into the protocol of
//! [`streamglass_core::protocol`] on a WebSocket, and serves the page. Data flows one way:
//! [`source`] (a [`kafka`] topic or a [`recording`], possibly replayed as [`live`]) →
//! [`subscription`] (seek, [`credit`], [`pace`]) → [`frames`] → [`server`] (the socket).

pub mod blocks;
pub mod cat;
pub mod catalog;
pub mod credit;
pub mod embedded;
mod error;
pub mod frames;
pub mod inspect;
pub mod kafka;
pub mod live;
pub mod pace;
pub mod protobuf;
pub mod record;
pub mod recording;
pub mod refreshed;
pub mod registry;
pub mod schemas;
pub mod served;
pub mod server;
pub mod sniff;
pub mod source;
pub mod subscription;
pub mod tls;
pub mod trades;

pub use error::{Error, Result};
