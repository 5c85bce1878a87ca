//! What the Windows component model costs over the engine, per echoed message.
//!
//! ```text
//! cargo bench -p wspc-capi --bench component
//! ```
//! A server receives a masked 20-byte binary message (one frame, as a client sends it) and
//! echoes it, in memory, through three APIs in the same run:
//! - `engine`: [`wspc::Connection`] (`feed`, `poll_event`, `send`, `poll_transmit`);
//! - `component`: the safe action-queue model (`receive`, `get_action`,
//!   `complete_action`, `send`); the received bytes are kept with
//!   [`Handle::received_bytes`] (shared, like the engine's message) and sent back;
//! - `c-abi`: the same through the exported C functions (`WebSocketReceive`, …), the way
//!   a C echo server drives them: the received bytes are copied into the application's
//!   buffer, and sent from there (by address, without a copy).
//!
//! Issue 8's target: the component model costs at most 10 % more per message than the
//! engine.

use std::ffi::c_void;
use std::hint::black_box;
use std::io::IoSlice;
use std::ptr;

use criterion::{Criterion, Throughput, criterion_group};
use websocket::component::{Action, Handle, HttpHeader, SendPayload};
use websocket::ffi::{self, DataBuffer, WebSocketBuffer, WebSocketHttpHeader};
use websocket::{ActionQueue, BufferType};
use wspc::{Config, Connection, Event, Message, Role};

const PAYLOAD: usize = 20;

/// One masked client frame carrying a 20-byte binary message.
fn client_frame() -> Vec<u8> {
    let mut client = Connection::new(Role::Client, Config::default());
    client.send(Message::binary(vec![0xA5u8; PAYLOAD])).unwrap();
    let mut wire = Vec::new();
    client.write_to(&mut wire).unwrap();
    wire
}

/// The request headers a client handle asks for (plus Host), as name/value bytes.
fn client_request() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut client = Handle::new_client(&[]).unwrap();
    let mut request: Vec<(Vec<u8>, Vec<u8>)> = client
        .begin_client_handshake(&[], &[], &[])
        .unwrap()
        .into_iter()
        .map(|h| (h.name.as_bytes().to_vec(), h.value.into_bytes()))
        .collect();
    request.push((b"Host".to_vec(), b"localhost".to_vec()));
    request
}

/// A server handle past the opening handshake.
fn component_server() -> Handle {
    let mut server = Handle::new_server(&[]).unwrap();
    let request = client_request();
    let request: Vec<HttpHeader> = request.iter().map(|(n, v)| HttpHeader::new(n, v)).collect();
    server.begin_server_handshake(None, &[], &request).unwrap();
    server.end_server_handshake().unwrap();
    server
}

fn engine_echo(server: &mut Connection, frame: &[u8]) -> usize {
    server.feed(frame);
    let Some(Event::Message(message)) = server.poll_event() else {
        panic!("no message")
    };
    server.send(message).unwrap();
    let mut slices = [IoSlice::new(&[]); 8];
    let n = server.poll_transmit(&mut slices);
    let written: usize = slices[..n].iter().map(|s| s.len()).sum();
    black_box(&slices[..n]);
    server.advance_transmit(written);
    written
}

fn component_echo(server: &mut Handle, frame: &[u8]) -> usize {
    server.receive(None, 1).unwrap();
    let Ok(Action::ReceiveFromNetwork {
        context, buffer, ..
    }) = server.get_action(ActionQueue::All, 2)
    else {
        panic!("no receive action")
    };
    buffer[..frame.len()].copy_from_slice(frame);
    server.complete_action(context, frame.len());
    let Ok(Action::IndicateReceiveComplete {
        context,
        buffer_type: BufferType::BinaryMessage,
        ..
    }) = server.get_action(ActionQueue::All, 2)
    else {
        panic!("no receive completion")
    };
    // The received bytes, kept without a copy (the engine's echo does the same).
    let data = server.received_bytes(context).unwrap();
    server.complete_action(context, 0);
    server
        .send(BufferType::BinaryMessage, SendPayload::Data(data), 2)
        .unwrap();
    let Ok(Action::SendToNetwork {
        context, buffers, ..
    }) = server.get_action(ActionQueue::All, 2)
    else {
        panic!("no send action")
    };
    let written = buffers.total_len();
    black_box(buffers);
    server.complete_action(context, written);
    let Ok(Action::IndicateSendComplete { context, .. }) = server.get_action(ActionQueue::All, 2)
    else {
        panic!("no send completion")
    };
    server.complete_action(context, 0);
    written
}

/// The C ABI, as a C echo server drives it.
struct CServer {
    handle: ffi::WebSocketHandle,
    copy: Vec<u8>,
}

impl CServer {
    fn new() -> CServer {
        let mut request = client_request();
        let headers: Vec<WebSocketHttpHeader> = request
            .iter_mut()
            .map(|(n, v)| WebSocketHttpHeader {
                name: n.as_mut_ptr().cast(),
                name_length: n.len() as u32,
                value: v.as_mut_ptr().cast(),
                value_length: v.len() as u32,
            })
            .collect();
        let mut handle = ptr::null_mut();
        let mut response = ptr::null_mut();
        let mut response_count = 0u32;
        // SAFETY: no properties; `handle` is writable.
        assert_eq!(
            unsafe { ffi::WebSocketCreateServerHandle(ptr::null(), 0, &mut handle) },
            0
        );
        // SAFETY: a live handle; the headers point into `request`, which outlives the
        // call; the out-pointers are writable locals.
        let hr = unsafe {
            ffi::WebSocketBeginServerHandshake(
                handle,
                ptr::null(),
                ptr::null(),
                0,
                headers.as_ptr(),
                headers.len() as u32,
                &mut response,
                &mut response_count,
            )
        };
        assert_eq!(hr, 0);
        // SAFETY: a live handle.
        assert_eq!(unsafe { ffi::WebSocketEndServerHandshake(handle) }, 0);
        CServer {
            handle,
            copy: vec![0; 4096],
        }
    }

    fn get_action(&mut self, buffers: &mut [WebSocketBuffer; 2]) -> (u32, u32, *mut c_void) {
        let mut count = 2u32;
        let mut action = 0u32;
        let mut buffer_type = 0u32;
        let mut app_context = ptr::null_mut();
        let mut action_context = ptr::null_mut();
        // SAFETY: a live handle; `buffers` has room for `count` buffers; every out-pointer
        // is a valid local.
        let hr = unsafe {
            ffi::WebSocketGetAction(
                self.handle,
                ActionQueue::All as u32,
                buffers.as_mut_ptr(),
                &mut count,
                &mut action,
                &mut buffer_type,
                &mut app_context,
                &mut action_context,
            )
        };
        assert_eq!(hr, 0);
        (action, count, action_context)
    }

    fn echo(&mut self, frame: &[u8]) -> usize {
        // SAFETY: a live handle; NULL buffer (handle memory) is allowed.
        assert_eq!(
            unsafe { ffi::WebSocketReceive(self.handle, ptr::null_mut(), ptr::null_mut()) },
            0
        );
        // SAFETY: an all-zero WebSocketBuffer is a valid (empty) value of the union.
        let mut buffers: [WebSocketBuffer; 2] = unsafe { std::mem::zeroed() };
        let (_, _, context) = self.get_action(&mut buffers);
        // SAFETY: RECEIVE_FROM_NETWORK hands out one writable buffer of its length.
        let target = unsafe { buffers[0].data };
        assert!(target.length as usize >= frame.len());
        // SAFETY: the buffer is writable for `target.length` bytes.
        unsafe { ptr::copy_nonoverlapping(frame.as_ptr(), target.buffer, frame.len()) };
        // SAFETY: a live handle and the action's context.
        unsafe { ffi::WebSocketCompleteAction(self.handle, context, frame.len() as u32) };
        let (_, _, context) = self.get_action(&mut buffers);
        // SAFETY: INDICATE_RECEIVE_COMPLETE hands out one readable data buffer.
        let data = unsafe { buffers[0].data };
        let len = data.length as usize;
        // SAFETY: readable for its length until the action is completed.
        unsafe { ptr::copy_nonoverlapping(data.buffer, self.copy.as_mut_ptr(), len) };
        // SAFETY: as above.
        unsafe { ffi::WebSocketCompleteAction(self.handle, context, 0) };
        // SAFETY: a zeroed buffer whose data arm is then set.
        let mut send: WebSocketBuffer = unsafe { std::mem::zeroed() };
        send.data = DataBuffer {
            buffer: self.copy.as_mut_ptr(),
            length: len as u32,
        };
        // SAFETY: the payload (`self.copy`) stays valid and unchanged until the send
        // completes below.
        let hr = unsafe {
            ffi::WebSocketSend(
                self.handle,
                BufferType::BinaryMessage as u32,
                &mut send,
                ptr::null_mut(),
            )
        };
        assert_eq!(hr, 0);
        let (_, count, context) = self.get_action(&mut buffers);
        let mut written = 0;
        for b in &buffers[..count as usize] {
            // SAFETY: SEND_TO_NETWORK hands out `count` data buffers.
            written += unsafe { b.data.length } as usize;
        }
        black_box(&buffers);
        // SAFETY: a live handle and the action's context.
        unsafe { ffi::WebSocketCompleteAction(self.handle, context, written as u32) };
        let (_, _, context) = self.get_action(&mut buffers);
        // SAFETY: as above.
        unsafe { ffi::WebSocketCompleteAction(self.handle, context, 0) };
        written
    }
}

impl Drop for CServer {
    fn drop(&mut self) {
        // SAFETY: the handle is live and not used after this.
        unsafe { ffi::WebSocketDeleteHandle(self.handle) };
    }
}

fn echo(c: &mut Criterion) {
    let frame = client_frame();
    let mut group = c.benchmark_group("echo-20B");
    group.throughput(Throughput::Elements(1));

    let mut engine = Connection::new(Role::Server, Config::default());
    assert_eq!(engine_echo(&mut engine, &frame), PAYLOAD + 2);
    group.bench_function("engine", |b| {
        b.iter(|| engine_echo(&mut engine, black_box(&frame)))
    });

    let mut component = component_server();
    assert_eq!(component_echo(&mut component, &frame), PAYLOAD + 2);
    group.bench_function("component", |b| {
        b.iter(|| component_echo(&mut component, black_box(&frame)))
    });

    let mut c_server = CServer::new();
    assert_eq!(c_server.echo(&frame), PAYLOAD + 2);
    group.bench_function("c-abi", |b| b.iter(|| c_server.echo(black_box(&frame))));
    group.finish();
}

criterion_group!(benches, echo);

/// `WSPC_ECHO_LOOP=API:N` (API: `engine`, `component` or `c-abi`) runs N echoes of that API
/// and exits, without criterion: run it under callgrind with two values of N; the
/// difference of the instruction counts over the difference of N is the cost per echo,
/// free of set-up and of the machine's noise.
fn echo_loop(spec: &str) {
    let (api, n) = spec.split_once(':').expect("WSPC_ECHO_LOOP=API:N");
    let n: usize = n.parse().expect("N is a number");
    let frame = client_frame();
    let mut total = 0;
    match api {
        "engine" => {
            let mut engine = Connection::new(Role::Server, Config::default());
            for _ in 0..n {
                total += engine_echo(&mut engine, black_box(&frame));
            }
        }
        "component" => {
            let mut component = component_server();
            for _ in 0..n {
                total += component_echo(&mut component, black_box(&frame));
            }
        }
        "c-abi" => {
            let mut c_server = CServer::new();
            for _ in 0..n {
                total += c_server.echo(black_box(&frame));
            }
        }
        _ => panic!("unknown API {api}"),
    }
    assert_eq!(total, n * (PAYLOAD + 2));
}

fn main() {
    if let Ok(spec) = std::env::var("WSPC_ECHO_LOOP") {
        echo_loop(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
