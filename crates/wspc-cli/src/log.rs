//! The log on stderr: one line per event, in `tracing-subscriber`'s default layout
//! without the target —
//! `2026-12-04T06:33:49.420686Z  INFO message key=value …` — written by a lean
//! formatter.
//!
//! `wspc serve` logs every connection (the WebSocket opened, and how it ended), so the
//! formatter is on the per-connection path: `tracing-subscriber`'s own one cost about
//! 10,000 instructions a line (its timestamp about 2,400; the message and every value
//! escaped one character at a time), four fifths of what the handshake itself costs
//! (issue 13). This one keeps the layout, the level filter (`-v`, `RUST_LOG`) and the
//! escaping rules, and writes:
//! - the timestamp from a per-thread cache of its date and time to the second;
//! - text without control characters as it is, in one piece; a C0 control character
//!   (but a tab), DEL or a C1 control character is written escaped (`\u{1b}`, `\u{85}`),
//!   so a value a peer sent cannot forge a line or drive a terminal;
//! - string values quoted, as `Debug` writes them.
//!
//! On a terminal the level is coloured, the timestamp dimmed and field names italic.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::stack_text::StackText;

/// Logging on stderr at `default` (an `EnvFilter` directive such as `info`) unless
/// `RUST_LOG` says otherwise.
pub(crate) fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .fmt_fields(Fields)
        .event_format(Line)
        .init();
}

/// The event formatter: timestamp, level, the spans in scope, the fields.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = writer.has_ansi_escapes();
        if ansi {
            writer.write_str("\x1b[2m")?;
        }
        write_timestamp(&mut writer, SystemTime::now())?;
        if ansi {
            writer.write_str("\x1b[0m")?;
        }
        writer.write_char(' ')?;
        let level = event.metadata().level();
        if ansi {
            writer.write_str(level_colour(level))?;
        }
        writer.write_str(level_name(level))?;
        if ansi {
            writer.write_str("\x1b[0m")?;
        }
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// The level, five characters wide (as `tracing-subscriber` writes it).
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

fn level_colour(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "\x1b[35m",
        Level::DEBUG => "\x1b[34m",
        Level::INFO => "\x1b[32m",
        Level::WARN => "\x1b[33m",
        Level::ERROR => "\x1b[31m",
    }
}

thread_local! {
    /// The second last written and its `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (UTC, microseconds), as `tracing-subscriber`'s
/// `SystemTime` writes it; the date and time to the second come from a per-thread
/// cache.
fn write_timestamp(w: &mut impl fmt::Write, now: SystemTime) -> fmt::Result {
    // A clock before 1970 is written as 1970.
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != secs {
        text = date_time(secs);
        SECOND.set((secs, text));
    }
    let mut tail = *b".000000Z";
    let mut micros = since.subsec_micros();
    for digit in tail[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    // Both are ASCII digits and punctuation.
    w.write_str(std::str::from_utf8(&text).unwrap_or("????-??-??T??:??:??"))?;
    w.write_str(std::str::from_utf8(&tail).unwrap_or(".??????Z"))
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since 1970 (UTC; years past 9999 are not
/// reached by a real clock and come out with a wrong first digit, never a panic).
fn date_time(secs: u64) -> [u8; 19] {
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, value: u64, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, of_day / 3600, 2);
    put(14, of_day / 60 % 60, 2);
    put(17, of_day % 60, 2);
    out
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Days from 0000-03-01, in 400-year eras of 146,097 days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The field formatter: `message` first as it is, then `name=value`, space-separated.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fields;

impl<'a> MakeVisitor<Writer<'a>> for Fields {
    type Visitor = Visitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> Visitor<'a> {
        Visitor {
            ansi: target.has_ansi_escapes(),
            writer: target,
            first: true,
            result: Ok(()),
        }
    }
}

/// Writes one event's (or span's) fields.
pub(crate) struct Visitor<'a> {
    writer: Writer<'a>,
    ansi: bool,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    /// The separator and `name=` (nothing for the message).
    fn name(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        let name = field.name();
        if name == "message" {
            return Ok(());
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        if self.ansi {
            write!(self.writer, "\x1b[3m{name}\x1b[0m\x1b[2m=\x1b[0m")
        } else {
            self.writer.write_str(name)?;
            self.writer.write_char('=')
        }
    }

    /// A value written as `fmt` makes it, escaped: formatted into a buffer on the stack
    /// first, so the escaping scan and the write happen once rather than once a piece
    /// (an address is seven pieces); a longer value is formatted again, streamed.
    fn record(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_err() {
            return;
        }
        self.result = self.name(field).and_then(|()| {
            let mut small = StackText::<SMALL>::new();
            match small.write_fmt(value) {
                Ok(()) => Escaping(&mut self.writer).write_str(small.as_str()),
                Err(fmt::Error) => Escaping(&mut self.writer).write_fmt(value),
            }
        });
    }

    /// A value no escaping can change (a number, a bool).
    fn record_plain(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_err() {
            return;
        }
        self.result = self.name(field).and_then(|()| self.writer.write_fmt(value));
    }
}

/// The longest value formatted on the stack before it is escaped and written.
const SMALL: usize = 128;

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            return self.record(field, format_args!("{value}"));
        }
        self.result = self.name(field).and_then(|()| {
            if value
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
            {
                self.writer.write_char('"')?;
                self.writer.write_str(value)?;
                self.writer.write_char('"')
            } else {
                // `Debug` escapes quotes, backslashes and every control character.
                write!(self.writer, "{value:?}")
            }
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_plain(field, format_args!("{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_plain(field, format_args!("{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record_plain(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format_args!("{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for Visitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for Visitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Writes text through, escaping control characters: C0 but the tab, DEL, C1.
struct Escaping<'w, W>(&'w mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // C1 characters are U+0080..U+009F: in UTF-8, 0xC2 then 0x80..0x9F.
        if !s
            .bytes()
            .any(|b| (b < b' ' && b != b'\t') || b == 0x7f || b == 0xc2)
        {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            match c {
                '\t' => self.0.write_char(c)?,
                c if c.is_control() => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    #[test]
    fn dates_and_times() {
        let at = |secs| String::from_utf8(date_time(secs).to_vec()).unwrap();
        assert_eq!(at(0), "1970-01-01T00:00:00");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(at(951_868_799), "2000-02-29T23:59:59");
        assert_eq!(at(951_868_800), "2000-03-01T00:00:00");
        assert_eq!(at(1_709_164_800), "2024-02-29T00:00:00");
        assert_eq!(at(1_735_689_599), "2024-12-31T23:59:59");
        assert_eq!(at(1_796_342_400), "2026-12-04T00:00:00");
        // 2100 is not a leap year.
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59");
        // Never a panic, whatever the clock says.
        let _ = date_time(u64::MAX);
    }

    #[test]
    fn timestamps_have_microseconds_and_follow_the_second() {
        let mut s = String::new();
        let t = UNIX_EPOCH + Duration::new(1_796_342_400, 7_001_999);
        write_timestamp(&mut s, t).unwrap();
        write_timestamp(&mut s, t + Duration::from_secs(61)).unwrap();
        write_timestamp(&mut s, UNIX_EPOCH - Duration::from_secs(1)).unwrap();
        assert_eq!(
            s,
            "2026-12-04T00:00:00.007001Z2026-12-04T00:01:01.007001Z1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut s = String::new();
        write!(Escaping(&mut s), "a\tb\nc\x1b[31md\x7fe\u{85}f é ✓").unwrap();
        assert_eq!(s, "a\tb\\u{a}c\\u{1b}[31md\\u{7f}e\\u{85}f é ✓");
    }

    /// The lines the subscriber writes, collected.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What one formatter makes of the same events (timestamps cut off).
    fn lines(lean: bool) -> Vec<String> {
        lines_of(lean, || {
            let peer: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
            let path = "/a b";
            tracing::info!(id = 7u64, %peer, path, deflate = true, "open");
            tracing::warn!(n = -3i64, quoted = "say \"hi\"\n", "refused: {}", "full");
            tracing::debug!(reason = ?"bye", "closed {}", 1000);
            let span = tracing::info_span!("conn", id = 9u64);
            let _entered = span.enter();
            tracing::info!("inside");
        })
    }

    /// What one formatter makes of `emit`'s events (timestamps cut off).
    fn lines_of(lean: bool, emit: impl Fn()) -> Vec<String> {
        let sink = Sink::default();
        let out = sink.clone();
        let builder = tracing_subscriber::fmt()
            .with_max_level(Level::DEBUG)
            .with_writer(move || out.clone())
            .with_ansi(false)
            .with_target(false);
        if lean {
            let s = builder.fmt_fields(Fields).event_format(Line).finish();
            tracing::subscriber::with_default(s, emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| {
                assert_eq!(l.as_bytes()[10], b'T', "{l}");
                assert_eq!(&l[26..28], "Z ", "{l}");
                l[28..].to_string()
            })
            .collect()
    }

    #[test]
    fn same_lines_as_tracing_subscriber() {
        let lean = lines(true);
        assert_eq!(lean, lines(false));
        assert_eq!(
            lean,
            [
                " INFO open id=7 peer=127.0.0.1:4000 path=\"/a b\" deflate=true",
                " WARN refused: full n=-3 quoted=\"say \\\"hi\\\"\\n\"",
                "DEBUG closed 1000 reason=\"bye\"",
                " INFO conn{id=9}: inside",
            ]
        );
    }

    /// Where `tracing-subscriber` writes a value's control characters as they are (or
    /// a message's newline), this formatter escapes them, also past the stack buffer.
    #[test]
    fn values_cannot_forge_lines_or_drive_the_terminal() {
        let lean = lines_of(true, || {
            let long = format!("{}\x1b[0m\nFAKE", "é".repeat(SMALL));
            tracing::info!(%long, short = %"\u{85}x", "{}\x07\r", "m".repeat(SMALL));
        });
        assert_eq!(
            lean,
            [format!(
                " INFO {}\\u{{7}}\\u{{d}} long={}\\u{{1b}}[0m\\u{{a}}FAKE short=\\u{{85}}x",
                "m".repeat(SMALL),
                "é".repeat(SMALL)
            )]
        );
    }
}
