//! The sensor's logs: what it says while it runs (errors, warnings,
//! notes) as structured `tracing` events, in one of three formats
//! (`--log-format`):
//!
//! - `text` (the default): a line per event on standard error,
//!   `vagt-sensor: warning: ...`, for a terminal;
//! - `json`: a JSON object per line on standard error with the time, the
//!   level, the module, the message and the event's fields (counts, paths,
//!   topics), for a log shipper;
//! - `journald`: straight to the systemd journal, the fields as journal
//!   fields (`VAGT_SPOOL_RECORDS=...`), so `journalctl -o verbose` and
//!   filters see them.
//!
//! The level is `info`, `warn` with `--quiet`, or what `VAGT_LOG` says in
//! tracing's filter syntax (`VAGT_LOG=debug`,
//! `VAGT_LOG=vagt_sensor::output=debug`), as for the analyzer. The run's
//! summary is a report, not a log event: it stays plain text.
//!
//! Nothing on the packet path logs: workers count, and the counts reach
//! the stats event.

use clap::ValueEnum;
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `vagt-sensor: warning: ...` lines on standard error.
    #[default]
    Text,
    /// A JSON object per line on standard error, with the event's fields.
    Json,
    /// The systemd journal, with the event's fields as journal fields.
    Journald,
}

/// Installs the logger for the process. A journal that cannot be reached
/// falls back to text, and says so.
pub fn init(format: LogFormat, quiet: bool) {
    let filter = || {
        EnvFilter::try_from_env("VAGT_LOG")
            .unwrap_or_else(|_| EnvFilter::new(if quiet { "warn" } else { "info" }))
    };
    let text = || {
        tracing_subscriber::fmt::layer()
            .event_format(Plain)
            .with_writer(std::io::stderr)
    };
    // An error means a logger is already installed (a second call in one
    // process): the first stays.
    let _ = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter())
            .with(text())
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter())
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Journald => match tracing_journald::layer() {
            Ok(j) => tracing_subscriber::registry()
                .with(filter())
                .with(
                    j.with_syslog_identifier("vagt-sensor".into())
                        .with_field_prefix(Some("VAGT".into())),
                )
                .try_init(),
            Err(e) => {
                let installed = tracing_subscriber::registry()
                    .with(filter())
                    .with(text())
                    .try_init();
                tracing::warn!(
                    "cannot reach the systemd journal ({e}); logging as text on standard error"
                );
                installed
            }
        },
    };
}

/// The text format: `vagt-sensor: LEVEL: message`; the fields are in the
/// message already, worded for a reader, so they are left out here.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        };
        write!(w, "vagt-sensor: {level}")?;
        let mut message = Message(&mut w, Ok(()));
        event.record(&mut message);
        message.1?;
        writeln!(w)
    }
}

/// Writes an event's message field.
struct Message<'a, 'w>(&'a mut Writer<'w>, fmt::Result);

impl Visit for Message<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.1 = write!(self.0, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.1 = self.0.write_str(value);
        }
    }
}
