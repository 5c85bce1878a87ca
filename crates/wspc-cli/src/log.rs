//! The log on stderr: one line per event, in `tracing-subscriber`'s default layout
//! without the target —
//! `2026-12-04T06:33:49.420686Z  INFO message key=value …` — written by a lean layer.
//!
//! `wspc serve` logs every connection (the WebSocket opened, and how it ended), so the
//! log is on the per-connection path. `tracing-subscriber`'s own formatter cost about
//! 10,000 instructions a line (its timestamp about 2,400; the message and every value
//! escaped one character at a time), and even a lean formatter inside its `fmt` layer
//! paid about 3,800 a line for `fmt::Write` called per character through `&mut dyn`
//! writers and UTF-8 checks of text it had just made (issue 13). This layer keeps the
//! layout, the level filter (`-v`, `RUST_LOG`, an `EnvFilter` in front of it) and the
//! escaping rules, and writes each line as bytes into one per-thread buffer, then to
//! stderr in one write:
//! - the timestamp from a per-thread cache of its date and time to the second;
//! - a value formatted straight into the line, then scanned once: text without control
//!   characters stays as it is; a C0 control character (but a tab), DEL or a C1
//!   control character is rewritten escaped (`\u{1b}`, `\u{85}`), so a value a peer
//!   sent cannot forge a line or drive a terminal;
//! - string values quoted, as `Debug` writes them; numbers without `fmt`.
//!
//! On a terminal the level is coloured, the timestamp dimmed and field names italic.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::stack_text::decimal;

/// Logging on stderr at `default` (an `EnvFilter` directive such as `info`) unless
/// `RUST_LOG` says otherwise.
pub(crate) fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::registry()
        .with(filter)
        .with(Log::new(ansi, std::io::stderr))
        .init();
}

/// The layer: one line per event, on whatever `make_writer` makes (stderr).
pub(crate) struct Log<W> {
    ansi: bool,
    make_writer: W,
}

impl<W> Log<W> {
    /// Lines with ANSI colours or without, written to what `make_writer` makes.
    pub(crate) fn new(ansi: bool, make_writer: W) -> Self {
        Log { ansi, make_writer }
    }
}

/// A span's fields as the line writes them (`id=9`), kept in the span's extensions.
struct SpanFields(String);

/// The longest line buffer a thread keeps between lines (a longer line's buffer is
/// given back).
const KEEP: usize = 4096;

thread_local! {
    /// The line being written (empty between lines).
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<S, W> Layer<S> for Log<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut text = Vec::new();
        attrs.record(&mut Visitor::new(&mut text, self.ansi));
        // Only `str`s and ASCII were written.
        let text = String::from_utf8(text).unwrap_or_default();
        span.extensions_mut().insert(SpanFields(text));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() else {
            return;
        };
        let mut text = std::mem::take(fields).into_bytes();
        let mut visitor = Visitor::new(&mut text, self.ansi);
        visitor.first = visitor.buf.is_empty();
        values.record(&mut visitor);
        *fields = String::from_utf8(text).unwrap_or_default();
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        LINE.with(|line| match line.try_borrow_mut() {
            Ok(mut line) => {
                self.write_line(&mut line, event, &ctx);
                line.clear();
                line.shrink_to(KEEP);
            }
            // An event logged while a value of another was being formatted.
            Err(_) => self.write_line(&mut Vec::new(), event, &ctx),
        });
    }
}

impl<W> Log<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Timestamp, level, the spans in scope, the fields; then one write.
    fn write_line<S>(&self, line: &mut Vec<u8>, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let ansi = self.ansi;
        if ansi {
            line.extend_from_slice(b"\x1b[2m");
        }
        write_timestamp(line, SystemTime::now());
        if ansi {
            line.extend_from_slice(b"\x1b[0m");
        }
        line.push(b' ');
        let level = event.metadata().level();
        if ansi {
            line.extend_from_slice(level_colour(level).as_bytes());
        }
        line.extend_from_slice(level_name(level).as_bytes());
        if ansi {
            line.extend_from_slice(b"\x1b[0m");
        }
        line.push(b' ');
        // `outer{a=1}:inner{b=2}: ` (names and braces bold, the colons dimmed).
        if let Some(scope) = ctx.event_scope(event) {
            let mut seen = false;
            for span in scope.from_root() {
                seen = true;
                let (bold, dim, reset): (&[u8], &[u8], &[u8]) = if ansi {
                    (b"\x1b[1m", b"\x1b[2m", b"\x1b[0m")
                } else {
                    (b"", b"", b"")
                };
                line.extend_from_slice(bold);
                line.extend_from_slice(span.name().as_bytes());
                line.extend_from_slice(reset);
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>()
                    && !fields.is_empty()
                {
                    line.extend_from_slice(bold);
                    line.push(b'{');
                    line.extend_from_slice(reset);
                    line.extend_from_slice(fields.as_bytes());
                    line.extend_from_slice(bold);
                    line.push(b'}');
                    line.extend_from_slice(reset);
                }
                line.extend_from_slice(dim);
                line.push(b':');
                line.extend_from_slice(reset);
            }
            if seen {
                line.push(b' ');
            }
        }
        event.record(&mut Visitor::new(line, ansi));
        line.push(b'\n');
        // Nowhere to report a failed write to stderr.
        let _ = self
            .make_writer
            .make_writer_for(event.metadata())
            .write_all(line);
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
fn write_timestamp(line: &mut Vec<u8>, now: SystemTime) {
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
    line.extend_from_slice(&text);
    line.extend_from_slice(&tail);
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

/// Writes fields as bytes: `message` first as it is, then `name=value`,
/// space-separated.
struct Visitor<'b> {
    buf: &'b mut Vec<u8>,
    ansi: bool,
    first: bool,
}

impl<'b> Visitor<'b> {
    fn new(buf: &'b mut Vec<u8>, ansi: bool) -> Self {
        Visitor {
            buf,
            ansi,
            first: true,
        }
    }

    /// The separator and `name=` (nothing for the message).
    fn name(&mut self, field: &Field) {
        if !std::mem::take(&mut self.first) {
            self.buf.push(b' ');
        }
        let name = field.name();
        if name == "message" {
            return;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        if self.ansi {
            self.buf.extend_from_slice(b"\x1b[3m");
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.extend_from_slice(b"\x1b[0m\x1b[2m=\x1b[0m");
        } else {
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(b'=');
        }
    }

    /// A value written as `fmt` makes it, straight into the line, then escaped in
    /// place (only when it holds a control character).
    fn record(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        self.name(field);
        let start = self.buf.len();
        // Writing to a `Vec` fails only if the value's own `fmt` does: the line keeps
        // what it wrote.
        let _ = Bytes(self.buf).write_fmt(value);
        escape_from(self.buf, start);
    }

    /// A number, in decimal.
    fn decimal(&mut self, field: &Field, negative: bool, n: u64) {
        self.name(field);
        if negative {
            self.buf.push(b'-');
        }
        let mut digits = [0u8; 20];
        self.buf.extend_from_slice(decimal(n, &mut digits));
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.record(field, format_args!("{value}"));
        }
        self.name(field);
        if value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            self.buf.push(b'"');
            self.buf.extend_from_slice(value.as_bytes());
            self.buf.push(b'"');
        } else {
            // `Debug` escapes quotes, backslashes and every control character.
            let _ = write!(Bytes(self.buf), "{value:?}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.decimal(field, false, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.decimal(field, value < 0, value.unsigned_abs());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format_args!("{value:?}"));
    }
}

/// Whether `bytes` hold a C0 control character but a tab, DEL, or the first byte of
/// a C1 control character (U+0080..U+009F: in UTF-8, 0xC2 then 0x80..0x9F; the scan
/// stops at 0xC2, and the escaping looks at the whole character).
///
/// Eight bytes at a time: a value is scanned on every line, and a byte at a time with
/// four comparisons cost about 1,000 instructions a handshake (issue 13).
fn may_need_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let special = |b: u8| (b < b' ' && b != b'\t') || b == 0x7f || b == 0xc2;
    // Nonzero when some byte of `x` is below `n` (n <= 0x80).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // A byte below 0x20 (a tab too), 0x7F or 0xC2: then look at each.
        let flagged = below(x, 0x20) | below(x ^ (ONES * 0x7f), 1) | below(x ^ (ONES * 0xc2), 1);
        if flagged != 0 && chunk.iter().any(|&b| special(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| special(b))
}

/// `fmt::Write` into the line's bytes.
struct Bytes<'b>(&'b mut Vec<u8>);

impl fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Escapes the control characters of the text from `start` on: C0 but the tab, DEL, C1.
fn escape_from(buf: &mut Vec<u8>, start: usize) {
    if !may_need_escaping(buf.get(start..).unwrap_or_default()) {
        return;
    }
    let raw = buf.split_off(start.min(buf.len()));
    // Only `str`s were written from `start`: nothing is lost.
    let text = String::from_utf8_lossy(&raw);
    for c in text.chars() {
        if c != '\t' && c.is_control() {
            let _ = write!(Bytes(buf), "\\u{{{:x}}}", c as u32);
        } else {
            let mut utf8 = [0; 4];
            buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
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
        let mut s = Vec::new();
        let t = UNIX_EPOCH + Duration::new(1_796_342_400, 7_001_999);
        write_timestamp(&mut s, t);
        write_timestamp(&mut s, t + Duration::from_secs(61));
        write_timestamp(&mut s, UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "2026-12-04T00:00:00.007001Z2026-12-04T00:01:01.007001Z1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut s = b"kept\n".to_vec();
        Bytes(&mut s)
            .write_str("a\tb\nc\x1b[31md\x7fe\u{85}f é ✓")
            .unwrap();
        escape_from(&mut s, 5);
        let s = String::from_utf8(s).unwrap();
        assert_eq!(
            s,
            "kept\n".to_string() + "a\tb\\u{a}c\\u{1b}[31md\\u{7f}e\\u{85}f é ✓"
        );
    }

    #[test]
    fn the_scan_finds_every_character_to_escape_wherever_it_is() {
        let special = |b: u8| (b < b' ' && b != b'\t') || b == 0x7f || b == 0xc2;
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(
                        may_need_escaping(&bytes),
                        special(b),
                        "{b:#x} at {at} of {len}"
                    );
                    // The neighbours of a flagged tab or 0x80 do not hide or invent one.
                    bytes.fill(if at % 2 == 0 { b'\t' } else { 0xff });
                    bytes[at] = b;
                    assert_eq!(may_need_escaping(&bytes), special(b), "{b:#x} in {bytes:?}");
                }
            }
        }
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
            let inner = tracing::info_span!("stage", n = tracing::field::Empty);
            let _inner = inner.enter();
            inner.record("n", 2u64);
            tracing::info!(ok = true, "deeper");
            inner.record("n", 3u64);
            tracing::info!("again");
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
            let out = sink.clone();
            let s = tracing_subscriber::registry()
                .with(tracing_subscriber::filter::LevelFilter::DEBUG)
                .with(Log::new(false, move || out.clone()));
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
                " INFO conn{id=9}:stage{n=2}: deeper ok=true",
                " INFO conn{id=9}:stage{n=2 n=3}: again",
            ]
        );
    }

    /// Where `tracing-subscriber` writes a value's control characters as they are (or
    /// a message's newline), this layer escapes them, in long values too.
    #[test]
    fn values_cannot_forge_lines_or_drive_the_terminal() {
        let lean = lines_of(true, || {
            let long = format!("{}\x1b[0m\nFAKE", "é".repeat(128));
            tracing::info!(%long, short = %"\u{85}x", "{}\x07\r", "m".repeat(128));
        });
        assert_eq!(
            lean,
            [format!(
                " INFO {}\\u{{7}}\\u{{d}} long={}\\u{{1b}}[0m\\u{{a}}FAKE short=\\u{{85}}x",
                "m".repeat(128),
                "é".repeat(128)
            )]
        );
    }
}
