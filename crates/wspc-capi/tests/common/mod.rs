//! Drivers for tests of the component model: a connected pair of handles, a peer that runs
//! the action loop against in-memory byte queues, and a frame encoder for hand-made input.

#![allow(dead_code)] // each test file uses part of this

use std::collections::VecDeque;

use websocket::component::{
    Action, Handle, HttpHeader, OwnedHeader, Property, Received, SendPayload,
};
use websocket::{ActionQueue, BufferType, Hresult};

/// Something an action loop observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    /// A completed receive: its type and bytes.
    Data(BufferType, Vec<u8>),
    /// A completed receive of a Close: status and reason.
    Close(u16, Vec<u8>),
    /// A completed send: its type and application context.
    Sent(BufferType, usize),
}

/// A handle with its side of an in-memory transport.
pub struct Peer {
    pub h: Handle,
    /// Bytes the peer can read.
    pub inbox: VecDeque<u8>,
    /// Bytes the peer wrote.
    pub out: Vec<u8>,
    /// Completed operations, in order.
    pub got: Vec<Got>,
    /// Largest read per RECEIVE_FROM_NETWORK (default: the whole buffer).
    pub read_size: usize,
    /// A read that found no bytes, waiting: its context and buffer length.
    parked: Option<(usize, usize)>,
}

impl Peer {
    pub fn new(h: Handle) -> Peer {
        Peer {
            h,
            inbox: VecDeque::new(),
            out: Vec::new(),
            got: Vec::new(),
            read_size: usize::MAX,
            parked: None,
        }
    }

    /// Runs the action loop on `queue` until NO_ACTION (a read with nothing to read is
    /// parked until bytes arrive). Returns the first error.
    pub fn run(&mut self, queue: ActionQueue) -> Result<(), Hresult> {
        if let Some((context, len)) = self.parked
            && !self.inbox.is_empty()
        {
            self.parked = None;
            let n = len.min(self.read_size).min(self.inbox.len());
            let data: Vec<u8> = self.inbox.drain(..n).collect();
            self.h.complete_receive_with(context, &data);
        }
        for _ in 0..100_000 {
            let (context, n) = match self.h.get_action(queue, 2)? {
                Action::NoAction => return Ok(()),
                Action::SendToNetwork {
                    context, buffers, ..
                } => {
                    assert!(buffers.count() >= 1 && buffers.count() <= 2);
                    buffers.iter().for_each(|b| self.out.extend_from_slice(b));
                    (context, buffers.total_len())
                }
                Action::IndicateSendComplete {
                    context,
                    buffer_type,
                    app_context,
                } => {
                    self.got.push(Got::Sent(buffer_type, app_context));
                    (context, 0)
                }
                Action::ReceiveFromNetwork {
                    context, buffer, ..
                } => {
                    if self.inbox.is_empty() {
                        self.parked = Some((context, buffer.len()));
                        continue;
                    }
                    let len = buffer.len().min(self.read_size);
                    (context, read_into(&mut self.inbox, &mut buffer[..len]))
                }
                Action::IndicateReceiveComplete {
                    context,
                    buffer_type,
                    data,
                    ..
                } => {
                    self.got.push(match data {
                        Received::Data(d) => Got::Data(buffer_type, d.to_vec()),
                        Received::Close { status, reason } => Got::Close(status, reason.to_vec()),
                    });
                    (context, 0)
                }
            };
            self.h.complete_action(context, n);
        }
        panic!("action loop did not settle");
    }

    /// Moves everything this peer wrote into `other`'s inbox.
    pub fn pump_to(&mut self, other: &mut Peer) {
        other.inbox.extend(self.out.drain(..));
    }

    /// Queues a send and runs the send queue; returns the bytes written.
    pub fn send(&mut self, buffer_type: BufferType, payload: SendPayload) -> Vec<u8> {
        self.h.send(buffer_type, payload, 0).expect("send");
        self.run(ActionQueue::Send).expect("send queue");
        std::mem::take(&mut self.out)
    }

    /// Feeds `wire`, then receives (one receive queued at a time) until the input is
    /// consumed, a Close arrived, or an error occurs. Returns what arrived (on error, what
    /// arrived stays in `got`).
    pub fn receive_all(&mut self, wire: &[u8]) -> Result<Vec<Got>, Hresult> {
        self.inbox.extend(wire);
        self.got.clear();
        for _ in 0..100_000 {
            let before = self.got.len();
            if matches!(self.got.last(), Some(Got::Close(..))) {
                return Ok(std::mem::take(&mut self.got));
            }
            if self.parked.is_none() {
                self.h.receive(None, 0)?;
            }
            self.run(ActionQueue::Receive)?;
            if self.got.len() == before && self.inbox.is_empty() {
                return Ok(std::mem::take(&mut self.got));
            }
        }
        panic!("receive loop did not settle");
    }
}

/// Moves as much of `inbox` as fits into `buffer` (a RECEIVE_FROM_NETWORK buffer).
pub fn read_into(inbox: &mut VecDeque<u8>, buffer: &mut [u8]) -> usize {
    let n = buffer.len().min(inbox.len());
    for (slot, byte) in buffer.iter_mut().zip(inbox.drain(..n)) {
        *slot = byte;
    }
    n
}

/// Owned copies of a header list, for passing back as `HttpHeader`s.
pub fn owned(headers: &[OwnedHeader]) -> Vec<(Vec<u8>, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.as_bytes().to_vec(), h.value.as_bytes().to_vec()))
        .collect()
}

/// Borrowed `HttpHeader`s of an owned list.
pub fn borrowed(headers: &[(Vec<u8>, Vec<u8>)]) -> Vec<HttpHeader<'_>> {
    headers.iter().map(|(n, v)| HttpHeader::new(n, v)).collect()
}

/// A client and a server handle through the full handshake.
pub fn pair_with(client: &[Property], server: &[Property]) -> (Peer, Peer) {
    let mut c = Handle::new_client(client).unwrap();
    let mut s = Handle::new_server(server).unwrap();
    let mut request = owned(&c.begin_client_handshake(&[], &[], &[]).unwrap());
    request.push((b"Host".to_vec(), b"localhost".to_vec()));
    let response = owned(
        &s.begin_server_handshake(None, &[], &borrowed(&request))
            .unwrap(),
    );
    c.end_client_handshake(&borrowed(&response), None).unwrap();
    s.end_server_handshake().unwrap();
    (Peer::new(c), Peer::new(s))
}

/// A client and a server with default properties.
pub fn pair() -> (Peer, Peer) {
    pair_with(&[], &[])
}

/// Encodes a frame by hand (any opcode, RSV bits, optional mask; minimal length encoding).
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as a client sends it (masked).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, payload, Some([0x12, 0x34, 0x56, 0x78]))
}

/// A frame as a server sends it (unmasked).
pub fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, payload, None)
}

/// A parsed frame from a byte stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub fin: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

/// Splits a byte stream into frames (panics on truncated input).
pub fn parse_frames(mut wire: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let fin = wire[0] & 0x80 != 0;
        let opcode = wire[0] & 0x0F;
        let masked = wire[1] & 0x80 != 0;
        let (len, mut at) = match wire[1] & 0x7F {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let mask = masked.then(|| {
            let key = [wire[at], wire[at + 1], wire[at + 2], wire[at + 3]];
            at += 4;
            key
        });
        let payload = wire[at..at + len]
            .iter()
            .enumerate()
            .map(|(i, b)| mask.map_or(*b, |k| b ^ k[i % 4]))
            .collect();
        out.push(Parsed {
            fin,
            opcode,
            mask,
            payload,
        });
        wire = &wire[at + len..];
    }
    out
}

/// Data payload helper.
pub fn data(bytes: impl AsRef<[u8]>) -> SendPayload {
    SendPayload::data(bytes)
}
