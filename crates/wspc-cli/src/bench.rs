//! `wspc bench`: a closed-loop WebSocket (or raw TCP) echo load generator in the manner
//! of uWebSockets' `load_test`.
//!
//! One thread (a tokio `current_thread` runtime) drives every connection. Each connection
//! keeps `in_flight` messages outstanding: when an echo comes back it is checked
//! byte-for-byte and the next message is queued at once. The frames are built and masked
//! once, before the run: a connection's writes are slices of one shared buffer holding
//! `in_flight + 1` copies of the masked frame, so sending costs no allocation and no
//! masking. Echoes are parsed in place as they are read (a large echo is compared as its
//! bytes arrive, never buffered whole).
//!
//! With `--deflate` the messages go through the engine's [`Connection`] instead, because
//! a compressed frame cannot be pre-built (the compressor's context changes with every
//! message).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, IoSlice, IsTerminal, Write as _};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use wspc::deflate::DeflateClient;
use wspc::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wspc::{ClientHandshake, ClientRequest, CloseCode, CloseFrame, Connection, Event, Message};

use crate::cpu::{CpuBusy, CpuSample};
use crate::histogram::Histogram;

/// Everything `wspc bench` was asked to do.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// `ws://host:port/path` (or `tcp://host:port`, or `host:port`, with `raw`).
    pub url: String,
    /// Number of connections.
    pub connections: usize,
    /// Messages in flight per connection.
    pub in_flight: usize,
    /// Payload size in bytes.
    pub size: usize,
    /// Text messages instead of binary.
    pub text: bool,
    /// Length of the measured window.
    pub duration: Duration,
    /// Warm-up before the measured window (not counted).
    pub warmup: Duration,
    /// Stop after this many echoes in total (no warm-up, no time limit).
    pub count: Option<u64>,
    /// Plain TCP echo, no WebSocket.
    pub raw: bool,
    /// Offer permessage-deflate.
    pub deflate: bool,
    /// Print one JSON object instead of the human summary.
    pub json: bool,
    /// A process (the server under test) whose busy share is reported with ours.
    pub watch_pid: Option<u32>,
}

/// Why a run could not take place.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The arguments do not make sense.
    #[error("{0}")]
    Usage(String),
    /// The URL could not be used.
    #[error("invalid URL: {0}")]
    Url(#[from] wspc::HandshakeError),
    /// A connection could not be opened or upgraded.
    #[error("connection {index}: {reason}")]
    Connect {
        /// Which connection (0-based).
        index: usize,
        /// What went wrong.
        reason: String,
    },
    /// The runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(io::Error),
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Connections.
    pub connections: usize,
    /// Messages in flight per connection.
    pub in_flight: usize,
    /// Payload size.
    pub size: usize,
    /// Length of the measured window, in seconds.
    pub duration_s: f64,
    /// Echoes received in the measured window.
    pub messages: u64,
    /// `messages / duration_s`.
    pub msgs_per_sec: f64,
    /// Payload MiB echoed per second (one direction: `msgs_per_sec × size / 2^20`).
    pub mib_per_sec: f64,
    /// Median round-trip latency, µs.
    pub p50_us: f64,
    /// 99th percentile round-trip latency, µs.
    pub p99_us: f64,
    /// Largest round-trip latency, µs.
    pub max_us: f64,
    /// Echoes that differed from what was sent, and connections that failed.
    pub errors: u64,
    /// How busy this process, the watched process and every core were in the window.
    pub busy: CpuBusy,
}

impl BenchReport {
    /// The report as the JSON object `--json` prints.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "connections": self.connections,
            "in_flight": self.in_flight,
            "size": self.size,
            "duration_s": self.duration_s,
            "messages": self.messages,
            "msgs_per_sec": self.msgs_per_sec,
            "mib_per_sec": self.mib_per_sec,
            "p50_us": self.p50_us,
            "p99_us": self.p99_us,
            "max_us": self.max_us,
            "errors": self.errors,
            "gen_busy": self.busy.own.map(round3),
            "server_busy": self.busy.watched.map(round3),
            "cores_busy": self.busy.cores.iter().copied().map(round3).collect::<Vec<_>>(),
        })
    }
}

/// A share rounded to 0.1 %.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Connecting,
    Warmup,
    Measure,
    Done,
}

/// State shared by every connection task (one thread: `Rc` + `Cell`).
struct Shared {
    phase: watch::Sender<Phase>,
    measured: Cell<u64>,
    total: Cell<u64>,
    errors: Cell<u64>,
    hist: RefCell<Histogram>,
    count: Option<u64>,
    ready: Cell<usize>,
    failed: RefCell<Option<BenchError>>,
    changed: Notify,
}

impl Shared {
    fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    fn error(&self) {
        self.errors.set(self.errors.get() + 1);
    }

    /// One echo arrived `latency` after its message was queued.
    fn echo(&self, latency: Duration, ok: bool) {
        if !ok {
            self.error();
        }
        let total = self.total.get() + 1;
        self.total.set(total);
        if self.phase() == Phase::Measure {
            self.measured.set(self.measured.get() + 1);
            self.hist.borrow_mut().record(latency.as_nanos() as u64);
        }
        if self.count.is_some_and(|c| total >= c) && self.phase() != Phase::Done {
            self.phase.send_replace(Phase::Done);
            self.changed.notify_one();
        }
    }

    fn running(&self) -> bool {
        self.phase() != Phase::Done
    }
}

/// The message every connection sends, prepared once.
struct Workload {
    /// The payload (what every echo must carry).
    payload: bytes::Bytes,
    /// `in_flight + 1` copies of the masked frame (or of the payload, raw), back to back.
    stream: Vec<u8>,
    /// Length of one frame in `stream`.
    frame_len: usize,
    /// The opcode the echo must carry.
    opcode: OpCode,
    /// A masked Close 1000 (WebSocket mode).
    close: Vec<u8>,
}

const MASK: [u8; 4] = [0x5a, 0x3c, 0xa5, 0xc3];

/// A compressible, ASCII (so valid UTF-8) payload, like a JSON document.
fn payload(size: usize) -> Vec<u8> {
    const PATTERN: &[u8] = br#"{"id":12345,"user":"wspc","tags":["bench","echo"],"ok":true},"#;
    PATTERN.iter().copied().cycle().take(size).collect()
}

fn masked_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: Some(MASK),
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut frame = Vec::with_capacity(n + payload.len());
    frame.extend_from_slice(&head[..n]);
    frame.resize(n + payload.len(), 0);
    wspc::mask::mask_into(&mut frame[n..], payload, MASK, 0);
    frame
}

impl Workload {
    fn new(config: &BenchConfig) -> Workload {
        let payload = payload(config.size);
        let opcode = if config.text {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let frame = if config.raw {
            payload.clone()
        } else {
            masked_frame(opcode, &payload)
        };
        let frame_len = frame.len();
        let mut stream = Vec::with_capacity(frame_len * (config.in_flight + 1));
        for _ in 0..=config.in_flight {
            stream.extend_from_slice(&frame);
        }
        let close = masked_frame(OpCode::Close, &1000u16.to_be_bytes());
        Workload {
            payload: payload.into(),
            stream,
            frame_len,
            opcode,
            close,
        }
    }
}

/// Where to connect.
struct Target {
    host: String,
    port: u16,
}

fn target(config: &BenchConfig) -> Result<Target, BenchError> {
    if config.raw {
        let rest = config
            .url
            .strip_prefix("tcp://")
            .or_else(|| config.url.strip_prefix("ws://"))
            .unwrap_or(&config.url);
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = authority.rsplit_once(':').ok_or_else(|| {
            BenchError::Usage(format!("--raw needs host:port, got {}", config.url))
        })?;
        let port = port
            .parse()
            .map_err(|_| BenchError::Usage(format!("invalid port in {}", config.url)))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        return Ok(Target {
            host: host.to_string(),
            port,
        });
    }
    let request = ClientRequest::new(&config.url)?;
    if request.is_tls() {
        return Err(BenchError::Usage(
            "bench speaks ws:// only (TLS would measure the cipher, not the server)".into(),
        ));
    }
    Ok(Target {
        host: request.host().to_string(),
        port: request.port(),
    })
}

/// Runs the benchmark and returns what it measured.
pub fn run(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    if config.connections == 0 || config.in_flight == 0 {
        return Err(BenchError::Usage(
            "--connections and --in-flight must be at least 1".into(),
        ));
    }
    if config.raw && (config.size == 0 || config.deflate) {
        return Err(BenchError::Usage(
            "--raw needs --size >= 1 and cannot be combined with --deflate".into(),
        ));
    }
    let target = target(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, drive(config, target))
}

async fn drive(config: &BenchConfig, target: Target) -> Result<BenchReport, BenchError> {
    let (phase, _) = watch::channel(Phase::Connecting);
    let shared = Rc::new(Shared {
        phase,
        measured: Cell::new(0),
        total: Cell::new(0),
        errors: Cell::new(0),
        hist: RefCell::new(Histogram::default()),
        count: config.count,
        ready: Cell::new(0),
        failed: RefCell::new(None),
        changed: Notify::new(),
    });
    let work = Rc::new(Workload::new(config));
    let target = Rc::new(target);
    let mut tasks = Vec::with_capacity(config.connections);
    for index in 0..config.connections {
        let (shared, work, target, config) =
            (shared.clone(), work.clone(), target.clone(), config.clone());
        tasks.push(tokio::task::spawn_local(async move {
            connection(index, &config, &target, &shared, &work).await;
        }));
    }

    // Wait until every connection is up (or one failed).
    loop {
        let notified = shared.changed.notified();
        if let Some(e) = shared.failed.borrow_mut().take() {
            shared.phase.send_replace(Phase::Done);
            for t in &tasks {
                t.abort();
            }
            return Err(e);
        }
        if shared.ready.get() == config.connections {
            break;
        }
        notified.await;
    }

    let progress = std::io::stderr().is_terminal() && !config.json;
    let start = Instant::now();
    let (mut measure_start, end) = match config.count {
        Some(_) => (start, None),
        None => (
            start + config.warmup,
            Some(start + config.warmup + config.duration),
        ),
    };
    let first = if config.count.is_none() && !config.warmup.is_zero() {
        Phase::Warmup
    } else {
        Phase::Measure
    };
    shared.phase.send_replace(first);
    let mut cpu_start = CpuSample::now(config.watch_pid);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await; // the first tick is immediate
    let mut last = (start, 0u64);
    let measure_end = loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shared.changed.notified() => {}
        }
        let now = Instant::now();
        if shared.phase() == Phase::Warmup && now >= measure_start {
            measure_start = now;
            cpu_start = CpuSample::now(config.watch_pid);
            shared.phase.send_replace(Phase::Measure);
        }
        if end.is_some_and(|end| now >= end) {
            shared.phase.send_replace(Phase::Done);
        }
        if shared.phase() == Phase::Done {
            break now;
        }
        if progress {
            let total = shared.total.get();
            let rate = (total - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
            last = (now, total);
            let label = match shared.phase() {
                Phase::Warmup => "warm-up",
                _ => "running",
            };
            let elapsed = now.duration_since(start).as_secs_f64();
            let goal = match (config.count, end) {
                (Some(c), _) => format!("{total}/{c} msgs"),
                (None, Some(end)) => {
                    format!(
                        "{elapsed:.1}/{:.1} s",
                        end.duration_since(start).as_secs_f64()
                    )
                }
                (None, None) => String::new(),
            };
            let _ = write!(
                std::io::stderr(),
                "\r{label} {goal}  {rate:>12.0} msgs/s  errors {}   ",
                shared.errors.get()
            );
        }
    };
    let busy = cpu_start.until(&CpuSample::now(config.watch_pid));
    if progress {
        let _ = writeln!(std::io::stderr());
    }

    // Every task sends its Close and waits briefly for the reply; stragglers are dropped.
    let grace = tokio::time::sleep(Duration::from_secs(2));
    tokio::pin!(grace);
    for t in &mut tasks {
        tokio::select! {
            _ = &mut grace => break,
            _ = t => {}
        }
    }
    for t in &tasks {
        t.abort();
    }

    let duration_s = measure_end.duration_since(measure_start).as_secs_f64();
    let messages = shared.measured.get();
    let hist = shared.hist.borrow();
    let msgs_per_sec = if duration_s > 0.0 {
        messages as f64 / duration_s
    } else {
        0.0
    };
    let us = |ns: u64| ns as f64 / 1000.0;
    Ok(BenchReport {
        connections: config.connections,
        in_flight: config.in_flight,
        size: config.size,
        duration_s,
        messages,
        msgs_per_sec,
        mib_per_sec: msgs_per_sec * config.size as f64 / (1024.0 * 1024.0),
        p50_us: us(hist.quantile(0.50)),
        p99_us: us(hist.quantile(0.99)),
        max_us: us(hist.max()),
        errors: shared.errors.get(),
        busy,
    })
}

/// One connection: connect, upgrade, wait for the start, run the closed loop, close.
async fn connection(
    index: usize,
    config: &BenchConfig,
    target: &Target,
    shared: &Shared,
    work: &Workload,
) {
    let fail = |reason: String| {
        if shared.failed.borrow().is_none() {
            *shared.failed.borrow_mut() = Some(BenchError::Connect { index, reason });
        }
        shared.changed.notify_one();
    };
    let stream = match TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let _ = stream.set_nodelay(true);
    let mut stream = stream;
    let engine = if config.raw {
        None
    } else {
        match tokio::time::timeout(Duration::from_secs(10), handshake(&mut stream, config)).await {
            Ok(Ok(conn)) => Some(conn),
            Ok(Err(e)) => return fail(e),
            Err(_) => return fail("handshake timed out".into()),
        }
    };
    shared.ready.set(shared.ready.get() + 1);
    shared.changed.notify_one();
    let mut phase = shared.phase.subscribe();
    if phase.wait_for(|p| *p >= Phase::Warmup).await.is_err() {
        return;
    }
    let result = match engine {
        Some(conn) if config.deflate => engine_loop(&mut stream, conn, config, shared, work).await,
        Some(_) => {
            frame_loop(
                &mut stream,
                config,
                shared,
                work,
                Parser::WebSocket(WsParser::default()),
            )
            .await
        }
        None => frame_loop(&mut stream, config, shared, work, Parser::Raw(0)).await,
    };
    if let Err(e) = result
        && shared.running()
    {
        tracing::warn!(connection = index, "{e}");
        shared.error();
    }
}

async fn handshake(stream: &mut TcpStream, config: &BenchConfig) -> Result<Connection, String> {
    let mut request = ClientRequest::new(&config.url).map_err(|e| e.to_string())?;
    if config.deflate {
        request = request.extension(Arc::new(DeflateClient::default()));
    }
    let mut handshake = ClientHandshake::new(request).map_err(|e| e.to_string())?;
    stream
        .write_all(handshake.request_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed during the handshake".into());
        }
        if let Some(established) = handshake.feed(&buf[..n]).map_err(|e| e.to_string())? {
            if config.deflate && established.connection.extension().is_none() {
                return Err("the server did not accept permessage-deflate".into());
            }
            return Ok(established.connection);
        }
    }
}

/// What the echo parser found.
enum Found {
    /// A whole echo; `true` when it matched what was sent.
    Echo(bool),
    /// A Ping to answer (payload ≤ 125 bytes).
    Ping,
    /// The server closed.
    Close,
}

/// Parses echoes as bytes arrive, comparing payloads in place.
enum Parser {
    /// Raw TCP: the offset into the current echo.
    Raw(usize),
    /// WebSocket frames.
    WebSocket(WsParser),
}

#[derive(Default)]
struct WsParser {
    /// A header split across reads.
    head: [u8; MAX_HEADER_LEN],
    head_len: usize,
    /// Payload bytes left in the current frame.
    remaining: u64,
    /// The current frame's header (when `remaining > 0` or just parsed).
    frame: Option<FrameHeader>,
    /// Offset into the expected payload of the current message.
    offset: usize,
    /// The current message still matches.
    ok: bool,
    /// The current message's opcode (first frame).
    opcode: Option<OpCode>,
    /// Payload of the control frame being read.
    control: Vec<u8>,
}

impl Parser {
    /// Consumes `data`, calling `found` for each event. Fails on a framing error.
    fn feed(
        &mut self,
        mut data: &[u8],
        work: &Workload,
        mut found: impl FnMut(Found, &[u8]),
    ) -> Result<(), String> {
        match self {
            Parser::Raw(offset) => {
                let expected = &work.payload[..];
                while !data.is_empty() {
                    let take = (expected.len() - *offset).min(data.len());
                    let ok = data[..take] == expected[*offset..*offset + take];
                    if !ok {
                        return Err("echoed bytes differ".into());
                    }
                    *offset += take;
                    data = &data[take..];
                    if *offset == expected.len() {
                        *offset = 0;
                        found(Found::Echo(true), &[]);
                    }
                }
                Ok(())
            }
            Parser::WebSocket(p) => {
                while !data.is_empty() {
                    if p.remaining > 0 {
                        let take = (p.remaining.min(data.len() as u64)) as usize;
                        p.payload(&data[..take], work);
                        p.remaining -= take as u64;
                        data = &data[take..];
                        if p.remaining == 0 {
                            p.end_frame(work, &mut found)?;
                        }
                        continue;
                    }
                    let parsed = if p.head_len == 0 {
                        FrameHeader::parse(data).map_err(|e| e.to_string())?
                    } else {
                        let add = (MAX_HEADER_LEN - p.head_len).min(data.len());
                        p.head[p.head_len..p.head_len + add].copy_from_slice(&data[..add]);
                        match FrameHeader::parse(&p.head[..p.head_len + add])
                            .map_err(|e| e.to_string())?
                        {
                            Some((h, used)) => {
                                // `used` counts the bytes held from earlier reads too.
                                let old = p.head_len;
                                p.head_len = 0;
                                Some((h, used - old))
                            }
                            None => {
                                p.head_len += add;
                                data = &data[add..];
                                continue;
                            }
                        }
                    };
                    let Some((header, used)) = parsed else {
                        p.head[..data.len()].copy_from_slice(data);
                        p.head_len = data.len();
                        return Ok(());
                    };
                    data = &data[used..];
                    p.start_frame(header)?;
                    if p.remaining == 0 {
                        p.end_frame(work, &mut found)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl WsParser {
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), String> {
        if header.mask.is_some() {
            return Err("the server masked a frame".into());
        }
        if header.opcode.is_control() {
            if header.payload_len > 125 || !header.fin {
                return Err("invalid control frame".into());
            }
            self.control.clear();
        } else {
            match (header.opcode, self.opcode) {
                (OpCode::Continuation, None) => return Err("continuation without a start".into()),
                (OpCode::Continuation, Some(_)) => {}
                (_, Some(_)) => return Err("new message inside a fragmented one".into()),
                (op, None) => {
                    self.opcode = Some(op);
                    self.offset = 0;
                    self.ok = header.rsv == 0;
                }
            }
        }
        self.remaining = header.payload_len;
        self.frame = Some(header);
        Ok(())
    }

    fn payload(&mut self, data: &[u8], work: &Workload) {
        let Some(frame) = self.frame else { return };
        if frame.opcode.is_control() {
            self.control.extend_from_slice(data);
            return;
        }
        let expected = &work.payload[..];
        let end = self.offset + data.len();
        self.ok = self.ok && end <= expected.len() && expected[self.offset..end] == *data;
        self.offset = end;
    }

    fn end_frame(
        &mut self,
        work: &Workload,
        found: &mut impl FnMut(Found, &[u8]),
    ) -> Result<(), String> {
        let Some(frame) = self.frame.take() else {
            return Ok(());
        };
        match frame.opcode {
            OpCode::Ping => found(Found::Ping, &self.control),
            OpCode::Pong => {}
            OpCode::Close => found(Found::Close, &self.control),
            _ if frame.fin => {
                let ok = self.ok
                    && self.offset == work.payload.len()
                    && self.opcode == Some(work.opcode);
                self.opcode = None;
                found(Found::Echo(ok), &[]);
            }
            _ => {}
        }
        Ok(())
    }
}

/// The closed loop on pre-built frames (WebSocket without deflate, and raw TCP).
async fn frame_loop(
    stream: &mut TcpStream,
    config: &BenchConfig,
    shared: &Shared,
    work: &Workload,
    mut parser: Parser,
) -> Result<(), String> {
    let frame_len = work.frame_len;
    // Bytes of the periodic frame stream still to write, and where the next one starts.
    let mut unsent = frame_len * config.in_flight;
    let mut phase = 0usize;
    let start = Instant::now();
    let mut queued: VecDeque<Instant> = VecDeque::with_capacity(config.in_flight);
    queued.extend(std::iter::repeat_n(start, config.in_flight));
    let mut buf = vec![0u8; (64 * 1024).max(frame_len.min(1 << 20))];
    let mut pong: Option<Vec<u8>> = None;
    let mut closed = false;
    while shared.running() {
        let interest = if unsent > 0 || pong.is_some() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let ready = stream.ready(interest).await.map_err(|e| e.to_string())?;
        if ready.is_writable() {
            if let Some(p) = pong.take_if(|_| phase == 0) {
                stream.write_all(&p).await.map_err(|e| e.to_string())?;
            }
            if unsent > 0 {
                match stream.try_write(&work.stream[phase..phase + unsent]) {
                    Ok(n) => {
                        unsent -= n;
                        phase = (phase + n) % frame_len;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        if ready.is_readable() {
            let n = match stream.try_read(&mut buf) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.to_string()),
            };
            let now = Instant::now();
            let running = shared.running();
            parser.feed(&buf[..n], work, |found, control| match found {
                Found::Echo(ok) => {
                    let sent = queued.pop_front().unwrap_or(now);
                    shared.echo(now.duration_since(sent), ok);
                    if running {
                        queued.push_back(now);
                        unsent += frame_len;
                    }
                }
                Found::Ping => pong = Some(masked_frame(OpCode::Pong, control)),
                Found::Close => closed = true,
            })?;
            if closed {
                return Err("the server sent a Close".into());
            }
        }
    }
    if matches!(parser, Parser::Raw(_)) {
        return Ok(());
    }
    // Finish the frame being written, then close and wait (bounded) for the reply.
    let partial = (frame_len - phase) % frame_len;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream
            .write_all(&work.stream[phase..phase + partial])
            .await?;
        stream.write_all(&work.close).await?;
        while stream.read(&mut buf).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
    Ok(())
}

/// The closed loop through the engine (`--deflate`).
async fn engine_loop(
    stream: &mut TcpStream,
    mut conn: Connection,
    config: &BenchConfig,
    shared: &Shared,
    work: &Workload,
) -> Result<(), String> {
    let message = if config.text {
        Message::Text(wspc::Utf8Bytes::try_from(work.payload.clone()).map_err(|e| e.to_string())?)
    } else {
        Message::Binary(work.payload.clone())
    };
    let start = Instant::now();
    let mut queued: VecDeque<Instant> = VecDeque::with_capacity(config.in_flight);
    for _ in 0..config.in_flight {
        conn.send(message.clone()).map_err(|e| e.to_string())?;
        queued.push_back(start);
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut closing = false;
    loop {
        if !closing && !shared.running() {
            closing = true;
            let _ = conn.close(CloseCode::SUCCESS, "");
        }
        while conn.has_transmit() {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = conn.poll_transmit(&mut slices);
            match stream.try_write_vectored(&slices[..n]) {
                Ok(written) => conn.advance_transmit(written),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        if conn.should_close_transport() {
            return Ok(());
        }
        let interest = if conn.has_transmit() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let ready = if closing {
            match tokio::time::timeout(Duration::from_secs(1), stream.ready(interest)).await {
                Ok(r) => r,
                Err(_) => return Ok(()),
            }
        } else {
            stream.ready(interest).await
        }
        .map_err(|e| e.to_string())?;
        if !ready.is_readable() {
            continue;
        }
        match stream.try_read(&mut buf) {
            Ok(0) => conn.handle_eof(),
            Ok(n) => conn.feed(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.to_string()),
        }
        let now = Instant::now();
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Message(m) => {
                    let ok = m.kind() == message.kind() && m.as_bytes() == &work.payload[..];
                    let sent = queued.pop_front().unwrap_or(now);
                    shared.echo(now.duration_since(sent), ok);
                    if shared.running() {
                        conn.send(message.clone()).map_err(|e| e.to_string())?;
                        queued.push_back(now);
                    }
                }
                Event::Close(CloseFrame { code, .. }) if !closing => {
                    return Err(format!("the server closed with {}", code.as_u16()));
                }
                Event::Failed(e) if !closing => return Err(e.to_string()),
                _ => {}
            }
        }
    }
}

/// Prints the human summary.
pub fn print_human(config: &BenchConfig, r: &BenchReport) {
    let kind = match (config.raw, config.text) {
        (true, _) => "raw TCP",
        (false, true) => "text",
        (false, false) => "binary",
    };
    let deflate = if config.deflate {
        ", permessage-deflate"
    } else {
        ""
    };
    println!(
        "wspc bench {}: {} connections × {} in flight, {} B {kind}{deflate}",
        config.url, r.connections, r.in_flight, r.size
    );
    println!(
        "  {:>10} msgs in {:.2} s: {:.0} msgs/s, {:.2} MiB/s",
        r.messages, r.duration_s, r.msgs_per_sec, r.mib_per_sec
    );
    println!(
        "  latency    p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        r.p50_us, r.p99_us, r.max_us
    );
    println!("  errors     {}", r.errors);
    let pct = |x: f64| format!("{:.0} %", x * 100.0);
    let mut cpu = Vec::new();
    if let Some(own) = r.busy.own {
        cpu.push(format!("bench {}", pct(own)));
    }
    if let Some(w) = r.busy.watched {
        cpu.push(format!("server {}", pct(w)));
    }
    if !r.busy.cores.is_empty() {
        let cores: Vec<String> = r.busy.cores.iter().map(|&c| pct(c)).collect();
        cpu.push(format!("cores [{}]", cores.join(", ")));
    }
    if !cpu.is_empty() {
        println!("  cpu busy   {}", cpu.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(size: usize, in_flight: usize) -> (BenchConfig, Workload) {
        let config = BenchConfig {
            url: "ws://127.0.0.1:1/".into(),
            connections: 1,
            in_flight,
            size,
            text: false,
            duration: Duration::from_secs(1),
            warmup: Duration::ZERO,
            count: None,
            raw: false,
            deflate: false,
            json: false,
            watch_pid: None,
        };
        let w = Workload::new(&config);
        (config, w)
    }

    fn echo_frame(opcode: OpCode, payload: &[u8], fin: bool) -> Vec<u8> {
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask: None,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        [&head[..n], payload].concat()
    }

    fn parse_all(bytes: &[u8], work: &Workload, split: usize) -> Vec<bool> {
        let mut parser = Parser::WebSocket(WsParser::default());
        let mut out = Vec::new();
        for chunk in bytes.chunks(split) {
            parser
                .feed(chunk, work, |f, _| {
                    if let Found::Echo(ok) = f {
                        out.push(ok)
                    }
                })
                .unwrap();
        }
        out
    }

    #[test]
    fn prebuilt_frames_unmask_to_the_payload() {
        let (_, w) = work(300, 3);
        assert_eq!(w.stream.len(), 4 * w.frame_len);
        let (h, n) = FrameHeader::parse(&w.stream).unwrap().unwrap();
        assert_eq!(h.payload_len, 300);
        let mut p = w.stream[n..w.frame_len].to_vec();
        wspc::mask::apply_mask(&mut p, h.mask.unwrap(), 0);
        assert_eq!(p, &w.payload[..]);
    }

    #[test]
    fn echoes_are_verified_across_any_split() {
        for size in [0usize, 20, 200, 70_000] {
            let (_, w) = work(size, 1);
            let good = echo_frame(OpCode::Binary, &w.payload, true);
            let mut bad_payload = w.payload.to_vec();
            if let Some(b) = bad_payload.last_mut() {
                *b ^= 1;
            }
            let bad = echo_frame(OpCode::Binary, &bad_payload, true);
            let text = echo_frame(OpCode::Text, &w.payload, true);
            let half = w.payload.len() / 2;
            let fragmented = [
                echo_frame(OpCode::Binary, &w.payload[..half], false),
                echo_frame(OpCode::Ping, b"hi", true),
                echo_frame(OpCode::Continuation, &w.payload[half..], true),
            ]
            .concat();
            let all = [good.clone(), bad, text, fragmented, good].concat();
            let expect_bad = size > 0; // an empty payload cannot be corrupted
            for split in [1, 3, 7, 1000, all.len()] {
                assert_eq!(
                    parse_all(&all, &w, split),
                    vec![true, !expect_bad, false, true, true],
                    "size {size} split {split}"
                );
            }
        }
    }

    #[test]
    fn raw_echoes_are_verified() {
        let (_, w) = work(5, 1);
        let mut parser = Parser::Raw(0);
        let mut n = 0;
        let stream = w.payload.repeat(3);
        for chunk in stream.chunks(4) {
            parser.feed(chunk, &w, |_, _| n += 1).unwrap();
        }
        assert_eq!(n, 3);
        assert!(parser.feed(b"x", &w, |_, _| {}).is_err());
    }
}
