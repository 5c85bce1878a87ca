//! A model-based property test of the component: random sequences of `Send`, `Receive`,
//! `GetAction`, `CompleteAction` and `Abort` (and of what a peer on the engine sends: data,
//! Pings, Close, garbage, the end of the stream) against a reference model of the Windows
//! rules:
//!
//! - each queue has at most one action outstanding, and at most one `SEND_TO_NETWORK` is
//!   outstanding across both;
//! - sends and receives complete (`INDICATE_*`) exactly once each, in the order they were
//!   queued, with their application contexts; actions of an application send carry its
//!   context, the component's own frames none;
//! - with nothing outstanding and an operation queued, `GetAction` hands out an action;
//! - after abort: sends and receives are refused, `GetAction` never fails, hands out no
//!   network action, and completes every queued operation;
//! - what the component writes is a valid frame stream for the peer (unless a write was cut
//!   short), carrying the messages sent, in order; what it delivers is what the peer sent,
//!   in order, chunked within the receive's target;
//! - errors only where the rules allow them (protocol errors only after the peer broke
//!   the protocol); after a protocol error, receives fail until the handle is aborted.
//!
//! `PROPTEST_CASES` sets the number of sequences (default 256). Under Miri only a scripted
//! sequence runs through the same checks.

use std::collections::VecDeque;
use std::sync::Arc;

use proptest::prelude::*;
use websocket::component::{Action, Handle, HttpHeader, Property, Received, SendPayload};
use websocket::{ActionKind, ActionQueue, BufferType, Hresult};
use wspc::deflate::DeflateClient;
use wspc::{ClientHandshake, ClientRequest, Connection, Event, Message, MessageKind};

/// What the test does next.
#[derive(Clone, Debug)]
enum Op {
    /// `WebSocketSend`.
    Send(SendOp),
    /// `WebSocketReceive`, into the component's memory or a target of this many bytes.
    Receive(Option<usize>),
    /// `WebSocketGetAction`.
    GetAction(ActionQueue, usize),
    /// `WebSocketCompleteAction` of an outstanding action (the first or second one in
    /// order of hand-out), or of a context that is not one.
    Complete(Which, Transfer),
    /// `WebSocketAbortHandle`.
    Abort,
    /// The peer sends a message (text or binary) of this length.
    PeerMessage(bool, usize),
    /// The peer sends a Ping with this payload length.
    PeerPing(usize),
    /// The peer starts the closing handshake with this code.
    PeerClose(u16),
    /// The peer sends a frame with a reserved opcode.
    PeerGarbage,
    /// The transport's read side ends.
    PeerEof,
}

#[derive(Clone, Copy, Debug)]
enum SendOp {
    Data(bool, usize),
    Ping,
    Pong,
    Close(u16),
}

#[derive(Clone, Copy, Debug)]
enum Which {
    First,
    Second,
    Bogus,
}

/// How much a completion transfers: everything offered, nothing, or one byte.
#[derive(Clone, Copy, Debug)]
enum Transfer {
    All,
    Nothing,
    One,
}

fn op() -> impl Strategy<Value = Op> {
    let queue = prop_oneof![
        Just(ActionQueue::Send),
        Just(ActionQueue::Receive),
        Just(ActionQueue::All)
    ];
    let send = prop_oneof![
        6 => (any::<bool>(), 0usize..300).prop_map(|(t, n)| SendOp::Data(t, n)),
        1 => Just(SendOp::Ping),
        1 => Just(SendOp::Pong),
        1 => prop_oneof![Just(1000u16), Just(1001), Just(4000)].prop_map(SendOp::Close),
    ];
    let which =
        prop_oneof![4 => Just(Which::First), 2 => Just(Which::Second), 1 => Just(Which::Bogus)];
    let transfer = prop_oneof![8 => Just(Transfer::All), 1 => Just(Transfer::Nothing), 1 => Just(Transfer::One)];
    prop_oneof![
        4 => send.prop_map(Op::Send),
        3 => prop_oneof![Just(None), (1usize..64).prop_map(Some)].prop_map(Op::Receive),
        8 => (queue, 0usize..3).prop_map(|(q, c)| Op::GetAction(q, c)),
        8 => (which, transfer).prop_map(|(w, t)| Op::Complete(w, t)),
        1 => Just(Op::Abort),
        3 => (any::<bool>(), 0usize..700).prop_map(|(t, n)| Op::PeerMessage(t, n)),
        1 => (0usize..20).prop_map(Op::PeerPing),
        1 => prop_oneof![Just(1000u16), Just(1002), Just(3000)].prop_map(Op::PeerClose),
        1 => Just(Op::PeerGarbage),
        1 => Just(Op::PeerEof),
    ]
}

/// Whose an outstanding action is: an application send's, a receive's, or a frame the
/// component generated (which belongs to the receive queue, or may use the send queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Send,
    Receive,
    Own,
}

/// An action handed out and not completed.
#[derive(Debug)]
struct Outstanding {
    context: usize,
    kind: ActionKind,
    owner: Owner,
    /// `SEND_TO_NETWORK`: the bytes offered.
    bytes: Vec<u8>,
    /// `RECEIVE_FROM_NETWORK`: the buffer's length.
    read_len: usize,
}

/// The reference model: what the Windows rules say the handle holds, and what both sides
/// sent.
struct Model {
    /// Application sends queued and not yet indicated: context and type.
    sends: VecDeque<(usize, BufferType)>,
    /// Receives queued and not yet indicated: context and target length.
    receives: VecDeque<(usize, Option<usize>)>,
    outstanding: Vec<Outstanding>,
    aborted: bool,
    /// A write was cut short or dropped: the stream is no longer checked.
    wire_unchecked: bool,
    /// Our Close was queued.
    close_sent: bool,
    /// The peer ended its input: Close, end of stream, or garbage (after which nothing it
    /// sends is delivered).
    peer_done: bool,
    /// The peer sent garbage: a protocol error may be reported.
    garbage: bool,
    /// A protocol error was reported.
    faulted: bool,
    /// The end of the input (a Close, or 1006) was delivered.
    end_delivered: bool,
    /// Data messages we queued, in order.
    sent_messages: Vec<Message>,
    /// Data messages the peer sent and the component has not delivered yet, the first one
    /// possibly in part (`partial`).
    expected: VecDeque<Message>,
    partial: Vec<u8>,
    /// The peer's Close code, if it sent one.
    peer_close: Option<u16>,
    next_context: usize,
}

/// The peer: a client on the engine, and the bytes between the two.
struct Peer {
    conn: Connection,
    /// Bytes the component can read.
    inbox: VecDeque<u8>,
    eof: bool,
    /// Data messages the peer received, in order.
    received: Vec<Message>,
    /// The peer's engine answered our Close with this code.
    echoed_close: Option<u16>,
    failed: bool,
}

impl Peer {
    fn pump_out(&mut self) {
        let mut out = Vec::new();
        self.conn.write_to(&mut out).unwrap();
        if !self.eof {
            self.inbox.extend(out);
        }
    }

    fn take_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Message(m) => self.received.push(m),
                Event::Close(frame) => self.echoed_close = Some(frame.code.as_u16()),
                Event::Failed(_) => self.failed = true,
                _ => {}
            }
        }
        self.pump_out();
    }
}

/// A server handle (receive buffer 256, send buffer 64) and the peer's engine connection,
/// through both handshakes; with `deflate`, both sides negotiate permessage-deflate (the
/// handle through `WSPC_PERMESSAGE_DEFLATE`, the peer with the engine's deflate client).
fn server_and_peer(deflate: bool) -> (Handle, Connection) {
    let mut request = ClientRequest::new("ws://localhost/").unwrap();
    if deflate {
        request = request.extension(Arc::new(DeflateClient::default()));
    }
    let mut engine = ClientHandshake::new(request).unwrap();
    let text = String::from_utf8(engine.request_bytes().to_vec()).unwrap();
    let headers: Vec<(Vec<u8>, Vec<u8>)> = text
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(": "))
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    let headers: Vec<HttpHeader> = headers.iter().map(|(n, v)| HttpHeader::new(n, v)).collect();
    let mut server = Handle::new_server(&[
        Property::ReceiveBufferSize(256),
        Property::SendBufferSize(64),
        Property::PerMessageDeflate(deflate),
    ])
    .unwrap();
    let response = server.begin_server_handshake(None, &[], &headers).unwrap();
    let mut head = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for h in &response {
        head.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    head.push_str("\r\n");
    let peer = engine.feed(head.as_bytes()).unwrap().unwrap().connection;
    assert_eq!(peer.extension().is_some(), deflate);
    assert_eq!(server.per_message_deflate().is_some(), deflate);
    (server, peer)
}

fn payload(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + ((i + seed) % 26) as u8).collect()
}

fn run(ops: &[Op], deflate: bool) -> Result<(), TestCaseError> {
    let (mut h, peer_conn) = server_and_peer(deflate);
    let mut m = Model {
        sends: VecDeque::new(),
        receives: VecDeque::new(),
        outstanding: Vec::new(),
        aborted: false,
        wire_unchecked: false,
        close_sent: false,
        peer_done: false,
        garbage: false,
        faulted: false,
        end_delivered: false,
        sent_messages: Vec::new(),
        expected: VecDeque::new(),
        partial: Vec::new(),
        peer_close: None,
        next_context: 1,
    };
    let mut peer = Peer {
        conn: peer_conn,
        inbox: VecDeque::new(),
        eof: false,
        received: Vec::new(),
        echoed_close: None,
        failed: false,
    };
    for (i, op) in ops.iter().enumerate() {
        step(&mut h, &mut m, &mut peer, op, i)?;
    }
    // Liveness and completion: abort, then drain both queues as .NET does.
    h.abort();
    m.aborted = true;
    for _ in 0..1000 {
        if m.sends.is_empty() && m.receives.is_empty() && m.outstanding.is_empty() {
            break;
        }
        if !m.outstanding.is_empty() {
            step(
                &mut h,
                &mut m,
                &mut peer,
                &Op::Complete(Which::First, Transfer::All),
                0,
            )?;
        } else {
            step(
                &mut h,
                &mut m,
                &mut peer,
                &Op::GetAction(ActionQueue::All, 2),
                0,
            )?;
        }
    }
    prop_assert!(m.sends.is_empty(), "sends never completed: {:?}", m.sends);
    prop_assert!(
        m.receives.is_empty(),
        "receives never completed: {:?}",
        m.receives
    );
    prop_assert!(matches!(
        h.get_action(ActionQueue::All, 2),
        Ok(Action::NoAction)
    ));
    // What was written is a valid stream with the messages sent, in order.
    if !m.wire_unchecked {
        peer.take_events();
        prop_assert!(!peer.failed, "the peer failed on what the component wrote");
        prop_assert!(peer.received.len() <= m.sent_messages.len());
        prop_assert_eq!(&peer.received[..], &m.sent_messages[..peer.received.len()]);
    }
    Ok(())
}

fn step(
    h: &mut Handle,
    m: &mut Model,
    peer: &mut Peer,
    op: &Op,
    i: usize,
) -> Result<(), TestCaseError> {
    match *op {
        Op::Send(send) => {
            let context = m.next_context;
            m.next_context += 1;
            let (buffer_type, payload) = match send {
                SendOp::Data(text, len) => {
                    let data = payload(len, i);
                    let t = if text {
                        BufferType::Utf8Message
                    } else {
                        BufferType::BinaryMessage
                    };
                    (t, SendPayload::data(data))
                }
                SendOp::Ping => (BufferType::PingPong, SendPayload::None),
                SendOp::Pong => (BufferType::UnsolicitedPong, SendPayload::None),
                SendOp::Close(status) => (
                    BufferType::Close,
                    SendPayload::Close {
                        status,
                        reason: "bye".into(),
                    },
                ),
            };
            let message = match (&payload, buffer_type) {
                (SendPayload::Data(d), BufferType::Utf8Message) => {
                    Some(Message::text(std::str::from_utf8(d).unwrap()))
                }
                (SendPayload::Data(d), _) => Some(Message::binary(d.clone())),
                _ => None,
            };
            match h.send(buffer_type, payload, context) {
                Ok(()) => {
                    prop_assert!(!m.aborted, "send accepted after abort");
                    prop_assert!(
                        !(m.close_sent && message.is_some()),
                        "data accepted after our Close"
                    );
                    if buffer_type == BufferType::Close {
                        prop_assert!(!m.close_sent, "a second Close accepted");
                        m.close_sent = true;
                    }
                    m.sends.push_back((context, buffer_type));
                    m.sent_messages.extend(message);
                }
                Err(e) => {
                    prop_assert_eq!(e, Hresult::E_INVALID_PROTOCOL_OPERATION);
                    prop_assert!(
                        m.aborted || m.wire_unchecked || m.close_sent || m.peer_done,
                        "send refused in an open session"
                    );
                }
            }
        }
        Op::Receive(target) => {
            let context = m.next_context;
            m.next_context += 1;
            // The component never writes the target (the C layer copies): an address is
            // enough.
            let target = target.map(|len| websocket::component::AppBuffer { addr: 0x1000, len });
            match h.receive(target, context) {
                Ok(()) => {
                    prop_assert!(!m.aborted && !m.end_delivered && !m.faulted);
                    m.receives.push_back((context, target.map(|t| t.len)));
                }
                Err(e) => {
                    prop_assert_eq!(e, Hresult::E_INVALID_PROTOCOL_OPERATION);
                    prop_assert!(
                        m.aborted || m.end_delivered || m.faulted || m.close_sent,
                        "receive refused in an open session"
                    );
                }
            }
        }
        Op::GetAction(queue, capacity) => get_action(h, m, queue, capacity)?,
        Op::Complete(which, transfer) => {
            let index = match which {
                Which::First => 0,
                Which::Second => 1,
                Which::Bogus => usize::MAX,
            };
            let Some(out) = (index < m.outstanding.len()).then(|| m.outstanding.remove(index))
            else {
                // Not an outstanding action: ignored.
                prop_assert_eq!(h.complete_action(usize::MAX - 7, 5), None);
                return Ok(());
            };
            complete(h, m, peer, out, transfer)?;
        }
        Op::Abort => {
            h.abort();
            m.aborted = true;
        }
        Op::PeerMessage(text, len) => {
            if m.peer_done {
                return Ok(());
            }
            let data = payload(len, i + 7);
            let message = if text {
                Message::text(String::from_utf8(data).unwrap())
            } else {
                Message::binary(data)
            };
            if peer.conn.send(message.clone()).is_ok() {
                m.expected.push_back(message);
                peer.pump_out();
            }
        }
        Op::PeerPing(len) => {
            if !m.peer_done && peer.conn.ping(payload(len, i)).is_ok() {
                peer.pump_out();
            }
        }
        Op::PeerClose(code) => {
            if !m.peer_done && peer.conn.close(wspc::CloseCode::new(code), "").is_ok() {
                m.peer_done = true;
                m.peer_close = Some(code);
                peer.pump_out();
            }
        }
        Op::PeerGarbage => {
            if !m.peer_done {
                m.peer_done = true;
                m.garbage = true;
                peer.inbox.extend([0x83, 0x80, 1, 2, 3, 4]); // reserved opcode 3
            }
        }
        Op::PeerEof => {
            m.peer_done = true;
            peer.eof = true;
        }
    }
    Ok(())
}

fn get_action(
    h: &mut Handle,
    m: &mut Model,
    queue: ActionQueue,
    capacity: usize,
) -> Result<(), TestCaseError> {
    let busy_send = m.outstanding.iter().any(|o| o.owner == Owner::Send);
    let busy_receive = m.outstanding.iter().any(|o| o.owner == Owner::Receive);
    let busy = |owner: Owner| match owner {
        Owner::Send => busy_send,
        _ => busy_receive,
    };
    let idle = m.outstanding.is_empty();
    let work = !m.sends.is_empty() || !m.receives.is_empty();
    let action = match h.get_action(queue, capacity) {
        Ok(action) => action,
        Err(e) => {
            prop_assert!(
                !(m.aborted && capacity > 0),
                "GetAction failed after abort: {e:?}"
            );
            if e == Hresult::E_INVALID_PROTOCOL_FORMAT {
                prop_assert!(m.garbage, "protocol error without one");
                prop_assert!(queue.includes_receive());
                m.faulted = true;
            } else {
                prop_assert_eq!(e, Hresult::E_INSUFFICIENT_BUFFER);
                prop_assert_eq!(capacity, 0);
            }
            return Ok(());
        }
    };
    let (context, kind) = (action.context(), action.kind());
    let (owner, bytes, read_len) = match action {
        Action::NoAction => {
            // With nothing outstanding and something queued, there is work to hand out.
            let liveness = idle && work && capacity == 2 && queue == ActionQueue::All;
            prop_assert!(
                !liveness,
                "NO_ACTION with {} sends and {} receives queued",
                m.sends.len(),
                m.receives.len()
            );
            return Ok(());
        }
        Action::SendToNetwork {
            buffer_type,
            buffers,
            app_context,
            ..
        } => {
            prop_assert!(!m.aborted, "network action after abort");
            prop_assert!(
                m.outstanding
                    .iter()
                    .all(|o| o.kind != ActionKind::SendToNetwork),
                "two SEND_TO_NETWORK outstanding"
            );
            prop_assert!(buffers.count() >= 1 && buffers.count() <= capacity);
            let owner = match app_context {
                Some(c) => {
                    prop_assert_eq!(m.sends.front().map(|s| s.0), Some(c), "not the front send");
                    prop_assert_eq!(m.sends.front().map(|s| s.1), Some(buffer_type));
                    Owner::Send
                }
                None => {
                    prop_assert!(matches!(
                        buffer_type,
                        BufferType::PingPong | BufferType::Close
                    ));
                    Owner::Own
                }
            };
            let bytes: Vec<u8> = buffers.iter().flatten().copied().collect();
            (owner, bytes, 0)
        }
        Action::IndicateSendComplete {
            buffer_type,
            app_context,
            ..
        } => {
            prop_assert_eq!(
                m.sends.front().copied(),
                Some((app_context, buffer_type)),
                "send completed out of order"
            );
            (Owner::Send, Vec::new(), 0)
        }
        Action::ReceiveFromNetwork {
            buffer,
            app_context,
            ..
        } => {
            prop_assert!(!m.aborted, "network action after abort");
            prop_assert_eq!(m.receives.front().map(|r| r.0), Some(app_context));
            prop_assert_eq!(buffer.len(), 256, "the whole receive buffer");
            (Owner::Receive, Vec::new(), buffer.len())
        }
        Action::IndicateReceiveComplete {
            buffer_type,
            data,
            target,
            app_context,
            ..
        } => {
            let front = m.receives.front().copied();
            prop_assert_eq!(
                front.map(|r| r.0),
                Some(app_context),
                "receive completed out of order"
            );
            // After a protocol error, receives fail until the handle is aborted.
            prop_assert!(
                !m.faulted || m.aborted,
                "a receive completed after a protocol error"
            );
            prop_assert_eq!(target.map(|t| t.len), front.and_then(|r| r.1));
            check_delivery(m, buffer_type, data, front.and_then(|r| r.1))?;
            (Owner::Receive, Vec::new(), 0)
        }
    };
    // The queue rules: the action belongs to the queried queue(s), and a queue with an
    // action outstanding has no other.
    match owner {
        Owner::Send => {
            prop_assert!(queue.includes_send(), "send action on the receive queue");
            prop_assert!(!busy(Owner::Send), "two send-queue actions outstanding");
        }
        Owner::Receive => {
            prop_assert!(queue.includes_receive(), "receive action on the send queue");
            prop_assert!(
                !busy(Owner::Receive),
                "two receive-queue actions outstanding"
            );
        }
        Owner::Own => {
            if queue == ActionQueue::Send {
                prop_assert!(!busy(Owner::Send));
            } else if queue == ActionQueue::Receive {
                prop_assert!(!busy(Owner::Receive));
            }
        }
    }
    m.outstanding.push(Outstanding {
        context,
        kind,
        owner,
        bytes,
        read_len,
    });
    Ok(())
}

/// Checks a delivered chunk against what the peer sent.
fn check_delivery(
    m: &mut Model,
    buffer_type: BufferType,
    data: Received<'_>,
    target: Option<usize>,
) -> Result<(), TestCaseError> {
    match data {
        Received::Data(bytes) => {
            prop_assert!(!m.aborted, "data delivered after abort");
            prop_assert!(
                target.is_none_or(|t| bytes.len() <= t),
                "chunk over the target"
            );
            if buffer_type == BufferType::PingPong {
                return Ok(()); // a Pong answering one of our Pings
            }
            let Some(front) = m.expected.front() else {
                return Err(TestCaseError::fail("data the peer never sent"));
            };
            let kind = match front.kind() {
                MessageKind::Text => [BufferType::Utf8Fragment, BufferType::Utf8Message],
                MessageKind::Binary => [BufferType::BinaryFragment, BufferType::BinaryMessage],
            };
            prop_assert!(kind.contains(&buffer_type), "{buffer_type:?} for {front:?}");
            m.partial.extend_from_slice(bytes);
            if buffer_type == kind[1] {
                prop_assert_eq!(&m.partial[..], front.as_bytes());
                m.partial.clear();
                m.expected.pop_front();
            } else {
                prop_assert!(
                    m.partial.len() < front.as_bytes().len() || front.as_bytes().is_empty()
                );
            }
        }
        Received::Close { status, .. } => {
            prop_assert_eq!(buffer_type, BufferType::Close);
            if status != 1006 {
                prop_assert_eq!(Some(status), m.peer_close, "a Close the peer did not send");
                prop_assert!(m.expected.is_empty(), "Close before the peer's messages");
            }
            m.end_delivered = true;
        }
    }
    Ok(())
}

fn complete(
    h: &mut Handle,
    m: &mut Model,
    peer: &mut Peer,
    out: Outstanding,
    transfer: Transfer,
) -> Result<(), TestCaseError> {
    match out.kind {
        ActionKind::SendToNetwork => {
            let n = match transfer {
                Transfer::All => out.bytes.len(),
                Transfer::Nothing => 0,
                Transfer::One => 1.min(out.bytes.len()),
            };
            if n < out.bytes.len() {
                m.wire_unchecked = true; // a dropped or cut frame
            }
            if !m.wire_unchecked {
                peer.conn.feed(&out.bytes[..n]);
                peer.take_events();
                if peer.echoed_close.is_some() && m.peer_close.is_none() {
                    // The peer's engine answered our Close: its input ends there.
                    m.peer_done = true;
                    m.peer_close = peer.echoed_close;
                }
            }
            prop_assert_eq!(
                h.complete_action(out.context, n),
                Some(websocket::component::Completed::SendToNetwork)
            );
        }
        ActionKind::ReceiveFromNetwork => {
            let available = peer.inbox.len().min(out.read_len);
            let n = match transfer {
                Transfer::One => available.min(1),
                _ => available,
            };
            if n == 0 && !peer.eof && !m.aborted {
                // Nothing to read yet: the read stays outstanding (after abort the
                // application completes it with 0, as .NET does).
                m.outstanding.insert(0, out);
                return Ok(());
            }
            let data: Vec<u8> = peer.inbox.drain(..n).collect();
            prop_assert_eq!(
                h.complete_receive_with(out.context, &data),
                Some(websocket::component::Completed::ReceiveFromNetwork)
            );
        }
        ActionKind::IndicateSendComplete => {
            m.sends.pop_front();
            prop_assert!(h.complete_action(out.context, 0).is_some());
        }
        ActionKind::IndicateReceiveComplete => {
            m.receives.pop_front();
            prop_assert!(h.complete_action(out.context, 0).is_some());
        }
        ActionKind::NoAction => unreachable!(),
    }
    Ok(())
}

/// Operations per sequence.
const MAX_OPS: usize = 80;

/// One fixed sequence through the same checks, short enough for Miri (which interprets
/// every instruction: the random sequences are left to the normal test run).
#[test]
fn a_scripted_sequence_follows_the_windows_rules() {
    use ActionQueue::{All, Receive, Send};
    let ops = [
        Op::Send(SendOp::Data(true, 40)),
        Op::Send(SendOp::Ping),
        Op::Receive(None),
        Op::PeerMessage(false, 300),
        Op::PeerPing(3),
        Op::GetAction(Send, 2),
        Op::GetAction(Receive, 1),
        Op::Complete(Which::Second, Transfer::All),
        Op::Complete(Which::First, Transfer::All),
        Op::GetAction(All, 2),
        Op::Complete(Which::First, Transfer::All),
        Op::GetAction(All, 2),
        Op::Complete(Which::First, Transfer::One),
        Op::Receive(Some(100)),
        Op::GetAction(All, 2),
        Op::Complete(Which::First, Transfer::All),
        Op::GetAction(Receive, 2),
        Op::Complete(Which::First, Transfer::All),
        Op::PeerClose(1000),
        Op::Send(SendOp::Close(1000)),
        Op::GetAction(All, 2),
        Op::Complete(Which::First, Transfer::All),
        Op::Abort,
        Op::Send(SendOp::Data(false, 1)),
    ];
    for deflate in [false, true] {
        if deflate && cfg!(miri) {
            continue; // the compressor is far too slow to interpret
        }
        run(&ops, deflate).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        max_shrink_iters: 2000,
        // Miri runs without file access: no regression file there.
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    })]

    #[test]
    #[cfg_attr(miri, ignore)]
    fn the_component_follows_the_windows_rules(ops in proptest::collection::vec(op(), 1..MAX_OPS)) {
        run(&ops, false)?;
    }

    /// The same with `WSPC_PERMESSAGE_DEFLATE` negotiated: the rules do not change.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn with_permessage_deflate_too(ops in proptest::collection::vec(op(), 1..MAX_OPS)) {
        run(&ops, true)?;
    }
}
