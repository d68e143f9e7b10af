//! Pro Bono Ledger's server: the application layer and the edges that reach it.
//!
//! Data and calls flow one way:
//!
//! ```text
//!   edges: graphql, web, http, cli, demo     translate requests to use cases and back
//!     │
//!     ▼
//!   app: one function per use case           authorise, load, seal/open, execute,
//!     │                                      compensate, read your writes, return the view
//!     ▼
//!   access · privacy · store · audit         principal + policy · keys + sealing ·
//!     │                                      event store + guarded appends · hash chains
//!     ▼
//!   domain · projections (crates)            aggregates and rules · read models
//! ```
//!
//! A module may use only the modules below it (and `error`, `config`, `metrics`, which
//! every layer shares). The test `layering` at the bottom of this file reads every
//! source file's `crate::` paths and fails the build on a path that goes up or sideways,
//! so the next cycle is caught before it lands.

pub mod access;
pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod privacy;
pub mod store;
pub mod web;

pub use app::App;
pub use error::ApiError;

#[cfg(test)]
mod layering;
