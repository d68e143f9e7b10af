//! The edge of Pro Bono Ledger: configuration, event-store wiring, authentication, field
//! encryption, the GraphQL schema, the HTTP server, metrics and the `probono` CLI.

pub mod app;
pub mod auth;
pub mod authz;
pub mod config;
pub mod crypto;
pub mod error;
pub mod graphql;
pub mod http;
pub mod keys;
pub mod ledger;
pub mod metrics;
pub mod privacy;
pub mod ratelimit;

pub use app::App;
pub use error::ApiError;
