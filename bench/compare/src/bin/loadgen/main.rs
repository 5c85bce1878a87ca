//! `loadgen`: a closed-loop echo load generator that shares no code with wspc, to
//! cross-check `wspc bench` (bench/compare.sh runs both).
//!
//! One thread, one epoll instance (mio, edge-triggered), non-blocking sockets. Every
//! connection keeps `P` messages in flight: each echo is checked against what was sent
//! as its bytes arrive, and the next message goes out at once. The masked frames are
//! built once, before the run, as `P + 1` copies back to back, so a connection's write
//! is a slice of that buffer (no allocation, no masking per message). A read that does
//! not fill the buffer ends the read loop (the socket is drained: no extra read that only
//! returns EAGAIN).
//!
//! ```text
//! loadgen ws://127.0.0.1:9001/ -c 100 -p 1 -s 20 --duration 5 --warmup 1 [--text]
//! loadgen 127.0.0.1:9000 --raw -c 10 -s 1024 --count 100000     # plain TCP echo
//! loadgen ws://127.0.0.1:9001/ --handshakes 10000 --concurrency 256
//! ```
//!
//! `--count N` stops after N echoes in all (no warm-up; for callgrind). `--handshakes N`
//! opens N connections, at most `--concurrency` at a time, each closed with a reset
//! (SO_LINGER 0, so no TIME_WAIT piles up) as soon as its 101 response is verified.
//! `--watch-pid PID` adds that process's busy share (all threads) to the report; the
//! generator's own busy share and every core's are always in it. `--json` prints one
//! JSON object (the same keys as `wspc bench --json`, plus the busy shares).

mod cpu;
mod echo;
mod handshake;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use echo::{EchoParser, Found};

/// What the command line asked for.
struct Args {
    addr: SocketAddr,
    host: String,
    path: String,
    raw: bool,
    connections: usize,
    in_flight: usize,
    size: usize,
    text: bool,
    duration: Duration,
    warmup: Duration,
    count: Option<u64>,
    handshakes: Option<u64>,
    concurrency: usize,
    watch_pid: Option<u32>,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut url = None;
    let mut a = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        host: String::new(),
        path: "/".into(),
        raw: false,
        connections: 100,
        in_flight: 1,
        size: 20,
        text: false,
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        count: None,
        handshakes: None,
        concurrency: 256,
        watch_pid: None,
        json: false,
    };
    fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number"))
    }
    let secs = |flag: &str, v: Option<String>| -> Result<Duration, String> {
        let s: f64 = num(flag, v)?;
        Duration::try_from_secs_f64(s).map_err(|e| format!("{flag}: {e}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--connections" => a.connections = num(&arg, it.next())?,
            "-p" | "--in-flight" => a.in_flight = num(&arg, it.next())?,
            "-s" | "--size" => a.size = num(&arg, it.next())?,
            "-d" | "--duration" => a.duration = secs(&arg, it.next())?,
            "--warmup" => a.warmup = secs(&arg, it.next())?,
            "--count" => a.count = Some(num(&arg, it.next())?),
            "--handshakes" => a.handshakes = Some(num(&arg, it.next())?),
            "--concurrency" => a.concurrency = num(&arg, it.next())?,
            "--watch-pid" => a.watch_pid = Some(num(&arg, it.next())?),
            "--raw" => a.raw = true,
            "--text" => a.text = true,
            "--json" => a.json = true,
            "-h" | "--help" => {
                return Err(
                    "usage: loadgen URL [-c N] [-p N] [-s BYTES] [--text] [--raw] \
                            [--duration S] [--warmup S] [--count N] [--handshakes N] \
                            [--concurrency N] [--watch-pid PID] [--json]"
                        .into(),
                );
            }
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    let url = url.ok_or("a URL (ws://host:port/path, or host:port with --raw) is needed")?;
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(&url);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    a.addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    a.host = authority.to_string();
    a.path = path.to_string();
    if a.connections == 0 || a.in_flight == 0 || a.concurrency == 0 {
        return Err("-c, -p and --concurrency must be at least 1".into());
    }
    if a.raw && (a.size == 0 || a.text || a.handshakes.is_some()) {
        return Err("--raw needs --size >= 1 and no --text or --handshakes".into());
    }
    Ok(a)
}

/// The message every connection sends, prepared once.
struct Work {
    /// What every echo must carry.
    payload: Vec<u8>,
    opcode: u8,
    /// `in_flight + 1` copies of the masked frame (raw: of the payload), back to back.
    stream: Vec<u8>,
    frame_len: usize,
    request: Vec<u8>,
    close: Vec<u8>,
}

impl Work {
    fn new(a: &Args) -> Work {
        let payload = echo::payload(a.size);
        let opcode = if a.text {
            echo::OP_TEXT
        } else {
            echo::OP_BINARY
        };
        let frame = if a.raw {
            payload.clone()
        } else {
            echo::masked_frame(opcode, &payload)
        };
        Work {
            stream: frame.repeat(a.in_flight + 1),
            frame_len: frame.len(),
            payload,
            opcode,
            request: handshake::request(&a.host, &a.path),
            close: echo::masked_frame(echo::OP_CLOSE, &1000u16.to_be_bytes()),
        }
    }
}

/// Latencies (ns), kept whole: percentiles are exact.
#[derive(Default)]
struct Latencies(Vec<u64>);

impl Latencies {
    /// (p50, p99, max) in µs.
    fn summary(&mut self) -> (f64, f64, f64) {
        let v = &mut self.0;
        if v.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
        (at(0.5), at(0.99), at(1.0))
    }
}

/// A connection's place in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Connecting,
    /// The request was written (partly: this many bytes); waiting for the 101.
    Upgrading(usize),
    Open,
    /// Our Close was queued; waiting for the server's Close or end of stream.
    Closing,
    Done,
}

struct Conn {
    stream: TcpStream,
    state: State,
    /// Response bytes so far (while upgrading).
    response: Vec<u8>,
    /// Bytes of the periodic frame stream still to write, and where the next starts.
    unsent: usize,
    pos: usize,
    /// Control frames (Pong, Close) to write at the next frame boundary.
    control: VecDeque<u8>,
    /// When each message in flight was queued.
    queued: VecDeque<Instant>,
    parser: EchoParser,
    /// Raw mode: the offset into the current echo.
    raw_at: usize,
}

/// Counters of a run.
#[derive(Default)]
struct Tally {
    total: u64,
    measured: u64,
    errors: u64,
    lat: Latencies,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// A non-blocking connection to `addr`, registered under `token`.
fn open(poll: &Poll, addr: SocketAddr, token: Token) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    poll.registry()
        .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(stream)
}

/// Whether a non-blocking connect has finished (`Ok(false)`: not yet).
fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

impl Conn {
    fn new(stream: TcpStream, in_flight: usize) -> Conn {
        Conn {
            stream,
            state: State::Connecting,
            response: Vec::new(),
            unsent: 0,
            pos: 0,
            control: VecDeque::new(),
            queued: VecDeque::with_capacity(in_flight),
            parser: EchoParser::default(),
            raw_at: 0,
        }
    }

    /// Writes what is queued until done or the socket is full. Control frames go at the
    /// next frame boundary.
    fn flush(&mut self, work: &Work) -> io::Result<()> {
        loop {
            if !self.control.is_empty() && self.pos == 0 {
                let (front, _) = self.control.as_slices();
                match self.stream.write(front) {
                    Ok(n) => {
                        self.control.drain(..n);
                        continue;
                    }
                    Err(e) if would_block(&e) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            if self.unsent == 0 {
                return Ok(());
            }
            let mut len = self.unsent;
            if !self.control.is_empty() {
                len = len.min(work.frame_len - self.pos); // finish this frame first
            }
            match self.stream.write(&work.stream[self.pos..self.pos + len]) {
                Ok(n) => {
                    self.unsent -= n;
                    self.pos = (self.pos + n) % work.frame_len;
                }
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until the socket is drained, checking echoes. Returns how many echoes
    /// arrived and how many of them differed from what was sent.
    fn read(&mut self, buf: &mut [u8], work: &Work, raw: bool) -> Result<(u64, u64), String> {
        let (mut echoes, mut bad) = (0, 0);
        loop {
            let n = match self.stream.read(buf) {
                Ok(0) if self.state == State::Closing => {
                    self.state = State::Done;
                    return Ok((echoes, bad));
                }
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => n,
                Err(e) if would_block(&e) => return Ok((echoes, bad)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.to_string()),
            };
            let data = &buf[..n];
            if raw {
                let mut d = data;
                while !d.is_empty() {
                    let take = (work.payload.len() - self.raw_at).min(d.len());
                    if d[..take] != work.payload[self.raw_at..self.raw_at + take] {
                        return Err("echoed bytes differ".into());
                    }
                    self.raw_at += take;
                    d = &d[take..];
                    if self.raw_at == work.payload.len() {
                        self.raw_at = 0;
                        echoes += 1;
                    }
                }
            } else {
                let mut closed = false;
                let control = &mut self.control;
                self.parser
                    .feed(data, work.opcode, &work.payload, &mut |f| match f {
                        Found::Echo(ok) => {
                            echoes += 1;
                            bad += u64::from(!ok);
                        }
                        Found::Ping(p) => control.extend(echo::masked_frame(echo::OP_PONG, &p)),
                        Found::Close => closed = true,
                    })
                    .map_err(|e| e.0.to_string())?;
                if closed {
                    if self.state == State::Closing {
                        self.state = State::Done;
                        return Ok((echoes, bad));
                    }
                    return Err("the server sent a Close".into());
                }
            }
            if n < buf.len() {
                // Drained: with edge-triggered readiness, later data is a new event.
                return Ok((echoes, bad));
            }
        }
    }

    /// Drives the opening handshake; `Ok(true)` once the 101 is verified.
    fn upgrade(&mut self, buf: &mut [u8], request: &[u8]) -> Result<bool, String> {
        let State::Upgrading(sent) = self.state else {
            return Ok(false);
        };
        if sent < request.len() {
            match self.stream.write(&request[sent..]) {
                Ok(n) => self.state = State::Upgrading(sent + n),
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(format!("handshake: {e}")),
            }
        }
        loop {
            match self.stream.read(buf) {
                Ok(0) => return Err("connection closed during the handshake".into()),
                Ok(n) => self.response.extend_from_slice(&buf[..n]),
                Err(e) if would_block(&e) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("handshake: {e}")),
            }
        }
        match handshake::check_response(&self.response) {
            None => Ok(false),
            Some((Err(e), _)) => Err(format!("handshake: {e}")),
            Some((Ok(()), used)) if used != self.response.len() => {
                Err("the server sent a frame before any message".into())
            }
            Some((Ok(()), _)) => {
                self.response = Vec::new();
                self.state = State::Open;
                Ok(true)
            }
        }
    }

    /// Advances a connection that is connecting or upgrading; `Ok(true)` once open.
    fn establish(&mut self, buf: &mut [u8], work: &Work, raw: bool) -> Result<bool, String> {
        if self.state == State::Connecting {
            if !connected(&self.stream).map_err(|e| format!("connect: {e}"))? {
                return Ok(false);
            }
            if raw {
                self.state = State::Open;
                return Ok(true);
            }
            self.state = State::Upgrading(0);
        }
        self.upgrade(buf, &work.request)
    }
}

/// The busy shares and the JSON members shared by both modes.
fn busy_json(from: &cpu::Sample, watch: Option<u32>) -> (cpu::Sample, String) {
    let to = cpu::Sample::now(watch);
    let json = from.until(&to).json_members();
    (to, json)
}

fn run_echo(a: &Args) -> Result<(String, u64), String> {
    let work = Work::new(a);
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    let mut conns = Vec::with_capacity(a.connections);
    for i in 0..a.connections {
        let stream = open(&poll, a.addr, Token(i)).map_err(|e| format!("connect: {e}"))?;
        conns.push(Conn::new(stream, a.in_flight));
    }
    let mut buf = vec![0u8; (64 * 1024).max(work.frame_len.min(1 << 20))];

    // Connect and upgrade every connection (bounded: 10 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ready = 0;
    while ready < conns.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "{ready} of {} connections ready after 10 s",
                conns.len()
            ));
        }
        poll.poll(&mut events, Some(left))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            if conns[ev.token().0].establish(&mut buf, &work, a.raw)? {
                ready += 1;
            }
        }
    }

    // The closed loop.
    let start = Instant::now();
    let mut tally = Tally::default();
    let measure_from = if a.count.is_some() {
        start
    } else {
        start + a.warmup
    };
    let end = a.count.is_none().then(|| measure_from + a.duration);
    let mut window: Option<(Instant, cpu::Sample)> = None;
    if measure_from <= start {
        window = Some((start, cpu::Sample::now(a.watch_pid)));
    }
    for c in &mut conns {
        c.unsent = work.frame_len * a.in_flight;
        c.queued.extend(std::iter::repeat_n(start, a.in_flight));
        c.flush(&work).map_err(|e| e.to_string())?;
    }
    let stop_after = a.count.unwrap_or(u64::MAX);
    let mut finished: Option<(Instant, String)> = None;
    while finished.is_none() {
        let now = Instant::now();
        let wake = if window.is_none() {
            Some(measure_from)
        } else {
            end
        };
        let timeout = wake.map_or(Duration::from_secs(10), |t| {
            t.saturating_duration_since(now)
        });
        poll.poll(&mut events, Some(timeout))
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        if window.is_none() && now >= measure_from {
            window = Some((now, cpu::Sample::now(a.watch_pid)));
        }
        let measuring = window.is_some();
        let mut running = end.is_none_or(|e| now < e);
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if c.state != State::Open {
                continue;
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                match c.read(&mut buf, &work, a.raw) {
                    Ok((echoes, bad)) => {
                        tally.errors += bad;
                        for _ in 0..echoes {
                            let sent = c.queued.pop_front().unwrap_or(now);
                            tally.total += 1;
                            if measuring {
                                tally.measured += 1;
                                tally.lat.0.push(now.duration_since(sent).as_nanos() as u64);
                            }
                            if running && tally.total < stop_after {
                                c.queued.push_back(now);
                                c.unsent += work.frame_len;
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("loadgen: connection {}: {e}", ev.token().0);
                        tally.errors += 1;
                        c.state = State::Done;
                        continue;
                    }
                }
            }
            if let Err(e) = c.flush(&work) {
                eprintln!("loadgen: connection {}: {e}", ev.token().0);
                tally.errors += 1;
                c.state = State::Done;
            }
        }
        if tally.total >= stop_after || conns.iter().all(|c| c.state != State::Open) {
            running = false;
        }
        if !running {
            let (_, cpu) = window.get_or_insert_with(|| (now, cpu::Sample::now(a.watch_pid)));
            let (_, json) = busy_json(cpu, a.watch_pid);
            finished = Some((now, json));
        }
    }
    let (stop, busy) = finished.expect("set when the loop ends");
    let (measure_start, _) = window.expect("set before the loop ends");
    if !a.raw {
        close_all(&mut poll, &mut events, &mut conns, &mut buf, &work);
    }

    let secs = stop.duration_since(measure_start).as_secs_f64();
    let rate = if secs > 0.0 {
        tally.measured as f64 / secs
    } else {
        0.0
    };
    let (p50, p99, max) = tally.lat.summary();
    let json = format!(
        "{{\"generator\":\"loadgen\",\"connections\":{},\"in_flight\":{},\"size\":{},\
         \"duration_s\":{secs:.6},\"messages\":{},\"msgs_per_sec\":{rate:.1},\
         \"mib_per_sec\":{:.3},\"p50_us\":{p50:.1},\"p99_us\":{p99:.1},\"max_us\":{max:.1},\
         \"errors\":{},{busy}}}",
        a.connections,
        a.in_flight,
        a.size,
        tally.measured,
        rate * a.size as f64 / (1024.0 * 1024.0),
        tally.errors
    );
    Ok((json, tally.errors))
}

/// Finishes the frame each connection is writing, sends a Close and waits (at most 1 s
/// in all) for the server's Close or end of stream.
fn close_all(
    poll: &mut Poll,
    events: &mut Events,
    conns: &mut [Conn],
    buf: &mut [u8],
    work: &Work,
) {
    for c in conns.iter_mut().filter(|c| c.state == State::Open) {
        c.unsent = if c.pos == 0 {
            0
        } else {
            work.frame_len - c.pos
        };
        c.control.extend(work.close.iter().copied());
        c.state = State::Closing;
        if c.flush(work).is_err() {
            c.state = State::Done;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while conns.iter().any(|c| c.state == State::Closing) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || poll.poll(events, Some(left)).is_err() {
            return;
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if c.state != State::Closing {
                continue;
            }
            if c.read(buf, work, false).is_err() || c.flush(work).is_err() {
                c.state = State::Done;
            }
        }
    }
}

/// A connection of the handshake benchmark.
struct Upgrade {
    conn: Conn,
    began: Instant,
}

fn run_handshakes(a: &Args, total: u64) -> Result<(String, u64), String> {
    let work = Work::new(a);
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    let mut slots: Vec<Option<Upgrade>> = (0..a.concurrency).map(|_| None).collect();
    let mut buf = vec![0u8; 4096];
    let (mut started, mut done, mut errors) = (0u64, 0u64, 0u64);
    let mut lat = Latencies::default();
    let begin = cpu::Sample::now(a.watch_pid);
    let start = Instant::now();
    let mut last_progress = start;
    while done + errors < total {
        // Keep `concurrency` handshakes going.
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.is_none() && started < total {
                started += 1;
                match open(&poll, a.addr, Token(i)) {
                    Ok(stream) => {
                        *slot = Some(Upgrade {
                            conn: Conn::new(stream, 1),
                            began: Instant::now(),
                        })
                    }
                    Err(e) => {
                        eprintln!("loadgen: connect: {e}");
                        errors += 1;
                    }
                }
            }
        }
        poll.poll(&mut events, Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        if events.is_empty() && now.duration_since(last_progress) > Duration::from_secs(10) {
            return Err(format!(
                "no progress for 10 s ({done} of {total} handshakes done)"
            ));
        }
        for ev in events.iter() {
            let Some(up) = slots[ev.token().0].as_mut() else {
                continue;
            };
            match up.conn.establish(&mut buf, &work, false) {
                Ok(false) => continue,
                Ok(true) => {
                    done += 1;
                    last_progress = now;
                    lat.0.push(now.duration_since(up.began).as_nanos() as u64);
                    // A reset, not a FIN: no TIME_WAIT left behind per connection.
                    let _ =
                        socket2::SockRef::from(&up.conn.stream).set_linger(Some(Duration::ZERO));
                }
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    errors += 1;
                }
            }
            slots[ev.token().0] = None;
        }
    }
    let stop = Instant::now();
    let (_, busy) = busy_json(&begin, a.watch_pid);
    let secs = stop.duration_since(start).as_secs_f64();
    let (p50, p99, max) = lat.summary();
    let json = format!(
        "{{\"generator\":\"loadgen\",\"handshakes\":{done},\"concurrency\":{},\
         \"duration_s\":{secs:.6},\"handshakes_per_sec\":{:.1},\"p50_us\":{p50:.1},\
         \"p99_us\":{p99:.1},\"max_us\":{max:.1},\"errors\":{errors},{busy}}}",
        a.concurrency,
        done as f64 / secs.max(1e-9),
    );
    Ok((json, errors))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match args.handshakes {
        Some(n) => run_handshakes(&args, n),
        None => run_echo(&args),
    };
    match result {
        Ok((json, errors)) => {
            if args.json {
                println!("{json}");
            } else {
                println!("{}", json.replace(',', ", "));
            }
            if errors > 0 {
                eprintln!("loadgen: {errors} errors");
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            if args.json {
                println!("{{\"error\":{:?}}}", e);
            }
            ExitCode::FAILURE
        }
    }
}
