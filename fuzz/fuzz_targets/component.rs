//! The Windows component model (`websocket::component`, the safe API under the C ABI)
//! under arbitrary call sequences: two handles (client and server, properties from the
//! input) through the opening handshake, then sends of every buffer type, receives with
//! and without a target, GetAction on any queue with any capacity, CompleteAction with
//! right or wrong contexts and byte counts, bytes carried between them or replaced by
//! arbitrary ones, aborts.
//!
//! Invariants: no panic; every action respects the properties (read buffers and
//! delivered chunks no larger than the receive buffer); a queue never hands out a second
//! action while one is outstanding; nothing but `NoAction` comes from an aborted handle
//! once its queued operations are reclaimed.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use websocket::component::{
    Action, AppBuffer, Handle, HttpHeader, Property, Received, SendPayload,
};
use websocket::{ActionQueue, BufferType};

#[derive(Arbitrary, Debug)]
struct Props {
    receive: Option<u16>,
    send: Option<u16>,
    disable_masking: bool,
    disable_utf8: bool,
}

impl Props {
    fn list(&self) -> Vec<Property> {
        let mut out = Vec::new();
        if let Some(r) = self.receive {
            out.push(Property::ReceiveBufferSize(256 + u32::from(r) % 4096));
        }
        if let Some(s) = self.send {
            out.push(Property::SendBufferSize(16 + u32::from(s) % 4096));
        }
        out.push(Property::DisableMasking(self.disable_masking));
        out.push(Property::DisableUtf8Verification(self.disable_utf8));
        out
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Send {
        server: bool,
        kind: u8,
        data: Vec<u8>,
        status: u16,
        ctx: u8,
    },
    Receive {
        server: bool,
        target: Option<u16>,
        ctx: u8,
    },
    /// GetAction, then complete it (or not) with a byte count; carries written bytes
    /// to the peer's wire, or fills reads from it.
    Step {
        server: bool,
        queue: u8,
        capacity: u8,
        complete: bool,
        bytes: u16,
        wrong_context: bool,
    },
    /// Arbitrary bytes onto a handle's incoming wire.
    Inject {
        server: bool,
        bytes: Vec<u8>,
    },
    Abort {
        server: bool,
    },
}

fn headers(list: &[(String, String)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes()))
        .collect()
}

fn open(client_props: &[Property], server_props: &[Property]) -> Option<(Handle, Handle)> {
    let mut client = Handle::new_client(client_props).ok()?;
    let mut server = Handle::new_server(server_props).ok()?;
    let request = client.begin_client_handshake(&[], &[], &[]).ok()?;
    let mut request: Vec<(String, String)> = request
        .into_iter()
        .map(|h| (h.name.to_string(), h.value))
        .collect();
    request.push(("Host".into(), "localhost".into()));
    let request = headers(&request);
    let request: Vec<HttpHeader> = request.iter().map(|(n, v)| HttpHeader::new(n, v)).collect();
    let response = server.begin_server_handshake(None, &[], &request).ok()?;
    let response: Vec<(String, String)> = response
        .into_iter()
        .map(|h| (h.name.to_string(), h.value))
        .collect();
    let response = headers(&response);
    let response: Vec<HttpHeader> = response
        .iter()
        .map(|(n, v)| HttpHeader::new(n, v))
        .collect();
    client.end_client_handshake(&response, None).ok()?;
    server.end_server_handshake().ok()?;
    Some((client, server))
}

fuzz_target!(|input: (Props, Props, Vec<Op>)| {
    let (cp, sp, ops) = input;
    let Some((client, server)) = open(&cp.list(), &sp.list()) else {
        return;
    };
    let mut handles = [client, server];
    // Bytes on their way to each handle (index 0: to the client).
    let mut wires: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut aborted = [false, false];
    for op in ops.into_iter().take(512) {
        match op {
            Op::Send {
                server,
                kind,
                data,
                status,
                ctx,
            } => {
                let i = usize::from(server);
                let buffer_type = BufferType::ALL[usize::from(kind) % BufferType::ALL.len()];
                let payload = match buffer_type {
                    BufferType::Close if data.is_empty() => SendPayload::None,
                    BufferType::Close => SendPayload::Close {
                        status,
                        reason: data.into(),
                    },
                    BufferType::PingPong | BufferType::UnsolicitedPong => SendPayload::None,
                    _ => SendPayload::Data(data.into()),
                };
                let _ = handles[i].send(buffer_type, payload, usize::from(ctx));
            }
            Op::Receive {
                server,
                target,
                ctx,
            } => {
                let i = usize::from(server);
                let target = target.map(|len| AppBuffer {
                    addr: 0x1000,
                    len: usize::from(len).max(1),
                });
                let _ = handles[i].receive(target, usize::from(ctx));
            }
            Op::Step {
                server,
                queue,
                capacity,
                complete,
                bytes,
                wrong_context,
            } => {
                let i = usize::from(server);
                let receive_size = handles[i].properties().receive_buffer_size as usize;
                let queue = match queue % 3 {
                    0 => ActionQueue::Send,
                    1 => ActionQueue::Receive,
                    _ => ActionQueue::All,
                };
                let (other, mine) = if i == 0 {
                    let (a, b) = wires.split_at_mut(1);
                    (&mut b[0], &mut a[0])
                } else {
                    let (a, b) = wires.split_at_mut(1);
                    (&mut a[0], &mut b[0])
                };
                let Ok(action) = handles[i].get_action(queue, usize::from(capacity)) else {
                    continue;
                };
                let context = action.context();
                let mut transferred = usize::from(bytes);
                match action {
                    Action::NoAction => continue,
                    Action::SendToNetwork { buffers, .. } => {
                        let total = buffers.total_len();
                        transferred = if complete {
                            total
                        } else {
                            transferred.min(total)
                        };
                        let mut left = transferred;
                        for b in buffers.iter() {
                            let take = left.min(b.len());
                            other.extend_from_slice(&b[..take]);
                            left -= take;
                        }
                    }
                    Action::ReceiveFromNetwork { buffer, .. } => {
                        assert!(
                            buffer.len() <= receive_size,
                            "read buffer over the receive size"
                        );
                        let n = buffer.len().min(mine.len()).min(transferred.max(1));
                        buffer[..n].copy_from_slice(&mine[..n]);
                        mine.drain(..n);
                        transferred = n;
                    }
                    Action::IndicateReceiveComplete { data, target, .. } => {
                        if let Received::Data(d) = data {
                            assert!(d.len() <= receive_size, "chunk over the receive size");
                            if let Some(t) = target {
                                assert!(d.len() <= t.len, "chunk over the target");
                            }
                        }
                    }
                    Action::IndicateSendComplete { .. } => {}
                }
                if !complete && !wrong_context {
                    continue; // left outstanding
                }
                let ctx = if wrong_context {
                    context.wrapping_add(1)
                } else {
                    context
                };
                handles[i].complete_action(ctx, transferred);
            }
            Op::Inject { server, bytes } => wires[usize::from(server)].extend_from_slice(&bytes),
            Op::Abort { server } => {
                let i = usize::from(server);
                handles[i].abort();
                aborted[i] = true;
            }
        }
    }
    // An aborted handle gives back what was queued, then nothing.
    for i in 0..2 {
        if !aborted[i] {
            continue;
        }
        let mut done = false;
        for _ in 0..10_000 {
            match handles[i].get_action(ActionQueue::All, 2) {
                Ok(Action::NoAction) | Err(_) => {
                    done = true;
                    break;
                }
                Ok(action) => {
                    assert!(
                        !matches!(
                            action,
                            Action::SendToNetwork { .. } | Action::ReceiveFromNetwork { .. }
                        ),
                        "network work after abort"
                    );
                    let c = action.context();
                    handles[i].complete_action(c, 0);
                }
            }
        }
        assert!(done, "an aborted handle kept handing out actions");
    }
});
