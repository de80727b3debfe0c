//! toban (当番): a terminal operations console for the person on call.

pub mod access_keys;
pub mod action;
pub mod actor;
pub mod alarm_types;
pub mod alarms;
pub mod app;
pub mod atomic_write;
pub mod backups;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod health;
pub mod logs;
pub mod providers;
pub mod runbook;
pub mod sanitize;
pub mod secrets;
pub mod services;
pub mod state;
pub mod store;
pub mod tab;
pub mod time;
pub mod tls_cert;
pub mod ui;
