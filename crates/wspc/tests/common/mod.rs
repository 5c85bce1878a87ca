//! Helpers shared by the engine's integration tests.
#![allow(dead_code)] // each test file uses part of these

use wspc::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wspc::mask::apply_mask;
use wspc::{CloseCode, Config, Connection, Event, Role};

/// A client and a server connection in their data phase.
pub fn pair(config: Config) -> (Connection, Connection) {
    (
        Connection::new(Role::Client, config.clone()),
        Connection::new(Role::Server, config),
    )
}

/// Every byte `from` wants to write.
pub fn take_output(from: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    from.write_to(&mut wire).unwrap();
    wire
}

/// Moves every byte `from` wants to write into `to`.
pub fn pump(from: &mut Connection, to: &mut Connection) {
    let wire = take_output(from);
    to.feed(&wire);
}

/// Every event ready now.
pub fn events(conn: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(event) = conn.poll_event() {
        out.push(event);
        assert!(out.len() < 1_000_000, "runaway event stream");
    }
    out
}

/// Raw frame bytes, as a peer would send them (masked with `key` if given).
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    // Encode with a valid opcode, then put the requested (possibly reserved) one in.
    let header = FrameHeader {
        fin,
        rsv,
        opcode: OpCode::Binary,
        mask: key,
        payload_len: payload.len() as u64,
    };
    let mut raw = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut raw);
    raw[0] = (raw[0] & 0xF0) | (opcode & 0x0F);
    let mut out = raw[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = key {
        apply_mask(&mut out[start..], k, 0);
    }
    out
}

/// A frame as a client sends it (masked).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, payload, Some([0x11, 0x22, 0x33, 0x44]))
}

/// A frame as a server sends it (unmasked).
pub fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, payload, None)
}

/// A Close frame payload.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// Parses the frames in `wire` (from a server: unmasked; from a client: unmasked here).
pub fn parse_frames(wire: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let (h, n) = FrameHeader::parse(&wire[at..])
            .unwrap()
            .expect("whole frame");
        let start = at + n;
        let end = start + h.payload_len as usize;
        let mut payload = wire[start..end].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut payload, k, 0);
        }
        out.push((h.opcode, h.fin, payload));
        at = end;
    }
    out
}

/// The close code in the Close frame `conn` wrote, if it wrote one.
pub fn sent_close_code(wire: &[u8]) -> Option<CloseCode> {
    parse_frames(wire)
        .into_iter()
        .find(|(op, _, _)| *op == OpCode::Close)
        .map(|(_, _, p)| {
            if p.len() >= 2 {
                CloseCode::new(u16::from_be_bytes([p[0], p[1]]))
            } else {
                CloseCode::EMPTY
            }
        })
}
