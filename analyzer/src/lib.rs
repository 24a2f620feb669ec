//! Vagt's central analyzer: ingests every municipality's sensor events from
//! Kafka ([`ingest`]) into one store ([`store`]: SQLite or PostgreSQL),
//! correlates across municipalities ([`correlate`]), raises incidents and
//! drafts NIS2 reports ([`incidents`], [`nis2`]), enforces retention
//! ([`retention`]) and serves analysts ([`api`], [`cli`]) with tokens and
//! roles ([`auth`]). It depends on the wire schema (`vagt-schema`) only.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod correlate;
pub mod incidents;
pub mod indicators;
pub mod ingest;
pub mod nis2;
pub mod retention;
pub mod serve;
pub mod store;
