//! The C ABI called from Rust, with every structure, array and out-pointer the caller
//! passes placed at an odd address: the functions must read and write them unaligned.
//! Under Miri (`cargo +nightly miri test -p wspc-capi --test ffi`), an aligned access
//! through any of these pointers, a read of freed memory or a leak fails the test; the C
//! programs (tests/c_programs.rs) cover the same paths under valgrind and the sanitizers.

use std::ffi::{c_char, c_void};
use std::mem::size_of;
use std::ptr;

use websocket::ffi::{
    self, DataBuffer, HRESULT, WebSocketBuffer, WebSocketHandle, WebSocketHttpHeader,
    WebSocketProperty,
};
use websocket::{ActionKind, ActionQueue, BufferType, Hresult, PropertyType};

const S_OK: HRESULT = 0;

/// Storage for `n` values of `T` starting one byte past an aligned address.
struct Odd<T> {
    bytes: Vec<u8>,
    n: usize,
    _t: std::marker::PhantomData<T>,
}

impl<T: Copy> Odd<T> {
    fn new(values: &[T]) -> Odd<T> {
        let mut o = Odd {
            bytes: vec![0u8; size_of::<T>() * values.len().max(1) + 1],
            n: values.len(),
            _t: std::marker::PhantomData,
        };
        for (i, v) in values.iter().enumerate() {
            o.set(i, *v);
        }
        o
    }

    fn ptr(&mut self) -> *mut T {
        // SAFETY: one byte into a buffer that holds `n` values after it.
        unsafe { self.bytes.as_mut_ptr().add(1).cast::<T>() }
    }

    fn get(&mut self, i: usize) -> T {
        assert!(i < self.n.max(1));
        // SAFETY: in bounds; read unaligned.
        unsafe { self.ptr().add(i).read_unaligned() }
    }

    fn set(&mut self, i: usize, v: T) {
        assert!(i < self.n.max(1));
        // SAFETY: in bounds; written unaligned.
        unsafe { self.ptr().add(i).write_unaligned(v) }
    }
}

/// A `WEB_SOCKET_PROPERTY` for a `ULONG`/`BOOL` value stored at an odd address.
fn property(kind: PropertyType, value: &mut Odd<u32>) -> WebSocketProperty {
    WebSocketProperty {
        property_type: kind as u32,
        value: value.ptr().cast::<c_void>(),
        value_size: 4,
    }
}

struct Action {
    kind: u32,
    buffer_type: u32,
    app_context: usize,
    context: *mut c_void,
    buffers: Vec<WebSocketBuffer>,
}

/// `WebSocketGetAction` with the buffer array and every out-pointer at odd addresses.
fn get_action(h: WebSocketHandle, queue: u32, capacity: u32) -> Result<Action, HRESULT> {
    let mut buffers: Odd<WebSocketBuffer> = Odd::new(&[empty_buffer(); 2]);
    let mut count = Odd::new(&[capacity]);
    let mut kind = Odd::new(&[99u32]);
    let mut buffer_type = Odd::new(&[99u32]);
    let mut app = Odd::new(&[ptr::dangling_mut::<c_void>()]);
    let mut context = Odd::new(&[ptr::dangling_mut::<c_void>()]);
    // SAFETY: a live handle; room for `capacity` (at most 2) buffers; every out-pointer
    // is writable.
    let hr = unsafe {
        ffi::WebSocketGetAction(
            h,
            queue,
            buffers.ptr(),
            count.ptr(),
            kind.ptr(),
            buffer_type.ptr(),
            app.ptr(),
            context.ptr(),
        )
    };
    if hr != S_OK {
        // On failure the outputs are still set (the sample completes regardless).
        assert_eq!((kind.get(0), count.get(0)), (0, 0));
        assert!(context.get(0).is_null());
        return Err(hr);
    }
    let n = count.get(0) as usize;
    Ok(Action {
        kind: kind.get(0),
        buffer_type: buffer_type.get(0),
        app_context: app.get(0).addr(),
        context: context.get(0),
        buffers: (0..n).map(|i| buffers.get(i)).collect(),
    })
}

fn empty_buffer() -> WebSocketBuffer {
    WebSocketBuffer {
        data: DataBuffer {
            buffer: ptr::null_mut(),
            length: 0,
        },
    }
}

fn complete(h: WebSocketHandle, a: &Action, n: u32) {
    // SAFETY: a live handle and the action's context.
    unsafe { ffi::WebSocketCompleteAction(h, a.context, n) };
}

fn data_of(b: &WebSocketBuffer) -> Vec<u8> {
    // SAFETY: the data arm; the component hands out readable buffers of this length.
    let d = unsafe { b.data };
    if d.length == 0 {
        return Vec::new();
    }
    // SAFETY: as above, valid until the action is completed.
    unsafe { std::slice::from_raw_parts(d.buffer, d.length as usize) }.to_vec()
}

/// Headers as the C API takes them: an odd-addressed array pointing into `text`.
fn headers(text: &mut [(Vec<u8>, Vec<u8>)]) -> Odd<WebSocketHttpHeader> {
    let list: Vec<WebSocketHttpHeader> = text
        .iter_mut()
        .map(|(n, v)| WebSocketHttpHeader {
            name: n.as_mut_ptr().cast::<c_char>(),
            name_length: n.len() as u32,
            value: v.as_mut_ptr().cast::<c_char>(),
            value_length: v.len() as u32,
        })
        .collect();
    Odd::new(&list)
}

/// Copies a returned header array.
fn read_headers(array: *mut WebSocketHttpHeader, count: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..count as usize)
        .map(|i| {
            // SAFETY: the array the library returned, with `count` entries, valid until
            // the matching End call.
            let h = unsafe { array.add(i).read() };
            // SAFETY: names and values are valid for their lengths (and NUL-terminated).
            unsafe {
                (
                    std::slice::from_raw_parts(h.name.cast::<u8>(), h.name_length as usize)
                        .to_vec(),
                    std::slice::from_raw_parts(h.value.cast::<u8>(), h.value_length as usize)
                        .to_vec(),
                )
            }
        })
        .collect()
}

/// A client and a server handle through both handshakes, everything passed at odd
/// addresses; the server with `server_properties`.
fn pair(server_properties: &mut Odd<WebSocketProperty>) -> (WebSocketHandle, WebSocketHandle) {
    let mut receive_size = Odd::new(&[1024u32]);
    let mut client_properties =
        Odd::new(&[property(PropertyType::ReceiveBufferSize, &mut receive_size)]);
    let mut client = Odd::new(&[ptr::null_mut()]);
    let mut server = Odd::new(&[ptr::null_mut()]);
    // SAFETY: property arrays of the given counts with readable values; writable outs.
    unsafe {
        assert_eq!(
            ffi::WebSocketCreateClientHandle(client_properties.ptr(), 1, client.ptr()),
            S_OK
        );
        assert_eq!(
            ffi::WebSocketCreateServerHandle(
                server_properties.ptr(),
                server_properties.n as u32,
                server.ptr()
            ),
            S_OK
        );
    }
    let (client, server) = (client.get(0), server.get(0));

    let mut protocol = *b"chat\0";
    let mut subprotocols = Odd::new(&[protocol.as_mut_ptr().cast_const().cast::<c_char>()]);
    let mut out = Odd::new(&[ptr::null_mut::<WebSocketHttpHeader>()]);
    let mut out_count = Odd::new(&[0u32]);
    // SAFETY: a live client handle; one subprotocol string; writable outs.
    let hr = unsafe {
        ffi::WebSocketBeginClientHandshake(
            client,
            subprotocols.ptr().cast_const(),
            1,
            ptr::null(),
            0,
            ptr::null(),
            0,
            out.ptr(),
            out_count.ptr(),
        )
    };
    assert_eq!(hr, S_OK);
    let mut request = read_headers(out.get(0), out_count.get(0));
    request.push((b"Host".to_vec(), b"localhost".to_vec()));
    let mut request_array = headers(&mut request);
    let mut selected = *b"chat\0";
    // SAFETY: a live server handle; the selected subprotocol string; the request array;
    // writable outs.
    let hr = unsafe {
        ffi::WebSocketBeginServerHandshake(
            server,
            selected.as_mut_ptr().cast::<c_char>(),
            ptr::null(),
            0,
            request_array.ptr(),
            request.len() as u32,
            out.ptr(),
            out_count.ptr(),
        )
    };
    assert_eq!(hr, S_OK);
    let mut response = read_headers(out.get(0), out_count.get(0));
    let mut response_array = headers(&mut response);
    let mut extension_count = Odd::new(&[0u32]);
    let mut chosen = Odd::new(&[77u32]);
    // SAFETY: a live client handle; the response array; writable outs (no extension
    // array with a capacity of 0).
    let hr = unsafe {
        ffi::WebSocketEndClientHandshake(
            client,
            response_array.ptr(),
            response.len() as u32,
            ptr::null_mut(),
            extension_count.ptr(),
            chosen.ptr(),
        )
    };
    assert_eq!(hr, S_OK);
    assert_eq!((chosen.get(0), extension_count.get(0)), (0, 0));
    // SAFETY: a live server handle.
    assert_eq!(unsafe { ffi::WebSocketEndServerHandshake(server) }, S_OK);
    (client, server)
}

/// Runs `h`'s actions on `queue` until NO_ACTION: writes go to `out`, reads come from
/// `input`, completed receives are returned (type, bytes, app context).
fn drive(
    h: WebSocketHandle,
    queue: ActionQueue,
    input: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Vec<(u32, Vec<u8>, usize)> {
    let mut got = Vec::new();
    for _ in 0..1000 {
        let a = get_action(h, queue as u32, 2).expect("GetAction");
        let n = match a.kind {
            k if k == ActionKind::NoAction as u32 => return got,
            k if k == ActionKind::SendToNetwork as u32 => {
                let mut n = 0;
                for b in &a.buffers {
                    let bytes = data_of(b);
                    n += bytes.len();
                    out.extend(bytes);
                }
                n
            }
            k if k == ActionKind::ReceiveFromNetwork as u32 => {
                assert_eq!(a.buffers.len(), 1);
                // SAFETY: the data arm: the buffer to read into.
                let d = unsafe { a.buffers[0].data };
                let n = input.len().min(d.length as usize);
                // SAFETY: writable for `d.length >= n` bytes until completed.
                unsafe { ptr::copy_nonoverlapping(input.as_ptr(), d.buffer, n) };
                input.drain(..n);
                n
            }
            k if k == ActionKind::IndicateReceiveComplete as u32 => {
                let bytes = if a.buffer_type == BufferType::Close as u32 {
                    // SAFETY: the close arm, for CLOSE.
                    let c = unsafe { a.buffers[0].close_status };
                    c.status.to_be_bytes().to_vec()
                } else {
                    data_of(&a.buffers[0])
                };
                got.push((a.buffer_type, bytes, a.app_context));
                0
            }
            _ => 0,
        };
        complete(h, &a, n as u32);
    }
    panic!("the action loop did not settle");
}

/// `WebSocketSend` of data with the buffer structure at an odd address.
fn send_data(h: WebSocketHandle, t: BufferType, payload: &mut [u8], context: usize) -> HRESULT {
    let mut buffer = Odd::new(&[WebSocketBuffer {
        data: DataBuffer {
            buffer: payload.as_mut_ptr(),
            length: payload.len() as u32,
        },
    }]);
    // SAFETY: a live handle; the buffer describes `payload`, which outlives the send (it
    // completes before the caller's payload goes away).
    unsafe {
        ffi::WebSocketSend(
            h,
            t as u32,
            buffer.ptr(),
            ptr::without_provenance_mut(context),
        )
    }
}

fn delete(h: WebSocketHandle) {
    // SAFETY: a live handle, not used afterwards.
    unsafe {
        ffi::WebSocketAbortHandle(h);
        ffi::WebSocketDeleteHandle(h);
    }
}

#[test]
fn a_session_through_the_c_abi_with_odd_addresses() {
    let mut masking_off = Odd::new(&[0u32]);
    let mut server_properties =
        Odd::new(&[property(PropertyType::DisableMasking, &mut masking_off)]);
    let (client, server) = pair(&mut server_properties);
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());

    // Client -> server, a text message; server -> client, binary into a target buffer.
    let mut text = b"Hello World".to_vec();
    assert_eq!(
        send_data(client, BufferType::Utf8Message, &mut text, 5),
        S_OK
    );
    drive(client, ActionQueue::Send, &mut Vec::new(), &mut to_server);
    // SAFETY: a live handle; NULL buffer (the component's memory); a context.
    assert_eq!(
        unsafe { ffi::WebSocketReceive(server, ptr::null_mut(), ptr::without_provenance_mut(6)) },
        S_OK
    );
    let got = drive(server, ActionQueue::Receive, &mut to_server, &mut to_client);
    assert_eq!(
        got,
        [(BufferType::Utf8Message as u32, b"Hello World".to_vec(), 6)]
    );

    let mut reply = vec![0xABu8; 300];
    assert_eq!(
        send_data(server, BufferType::BinaryMessage, &mut reply, 7),
        S_OK
    );
    drive(server, ActionQueue::Send, &mut Vec::new(), &mut to_client);
    let mut target = vec![0u8; 100];
    let mut receive_buffer = Odd::new(&[WebSocketBuffer {
        data: DataBuffer {
            buffer: target.as_mut_ptr(),
            length: target.len() as u32,
        },
    }]);
    let mut chunks = Vec::new();
    for round in 0..3 {
        // SAFETY: a live handle; the target stays valid until the receive completes.
        let hr = unsafe {
            ffi::WebSocketReceive(
                client,
                receive_buffer.ptr(),
                ptr::without_provenance_mut(round),
            )
        };
        assert_eq!(hr, S_OK);
        chunks.extend(drive(
            client,
            ActionQueue::Receive,
            &mut to_client,
            &mut to_server,
        ));
    }
    assert_eq!(
        chunks.iter().map(|c| (c.0, c.1.len())).collect::<Vec<_>>(),
        [
            (BufferType::BinaryFragment as u32, 100),
            (BufferType::BinaryFragment as u32, 100),
            (BufferType::BinaryMessage as u32, 100)
        ]
    );

    // A Close with its reason at an odd address; the server delivers it.
    let mut reason = Odd::new(b"bye");
    let mut close = Odd::new(&[WebSocketBuffer {
        close_status: ffi::CloseStatusBuffer {
            reason: reason.ptr(),
            reason_length: 3,
            status: 1000,
        },
    }]);
    // SAFETY: a live handle; the close buffer and its reason are readable.
    assert_eq!(
        unsafe {
            ffi::WebSocketSend(
                client,
                BufferType::Close as u32,
                close.ptr(),
                ptr::null_mut(),
            )
        },
        S_OK
    );
    drive(client, ActionQueue::All, &mut Vec::new(), &mut to_server);
    // SAFETY: a live handle.
    assert_eq!(
        unsafe { ffi::WebSocketReceive(server, ptr::null_mut(), ptr::null_mut()) },
        S_OK
    );
    let got = drive(server, ActionQueue::All, &mut to_server, &mut to_client);
    assert_eq!(
        got,
        [(BufferType::Close as u32, 1000u16.to_be_bytes().to_vec(), 0)]
    );

    delete(client);
    delete(server);
}

#[test]
fn allocated_buffers_hold_every_pointer_handed_out() {
    // .NET's convention: pvValue points at a pointer-sized slot holding the address (the
    // slot itself at an odd address here), ulValueSize is the buffer's length.
    const RECEIVE: usize = 256;
    const SEND: usize = 16;
    const LEN: usize = RECEIVE + SEND + 144;
    let mut arena = vec![0u64; LEN / 8 + 1]; // 8-byte aligned, as required
    let base = arena.as_mut_ptr().cast::<u8>();
    let mut slot = Odd::new(&[base]);
    let mut receive = Odd::new(&[RECEIVE as u32]);
    let mut send = Odd::new(&[SEND as u32]);
    let mut properties = Odd::new(&[
        property(PropertyType::ReceiveBufferSize, &mut receive),
        property(PropertyType::SendBufferSize, &mut send),
        WebSocketProperty {
            property_type: PropertyType::AllocatedBuffer as u32,
            value: slot.ptr().cast::<c_void>(),
            value_size: LEN as u32,
        },
    ]);
    let (client, server) = pair(&mut properties);
    let inside = |p: *mut u8, len: u32| {
        let (p, base) = (p as usize, base as usize);
        p >= base && p + len as usize <= base + LEN
    };
    let mut to_server = Vec::new();
    let mut payload = b"ping me".to_vec();
    // SAFETY: a live handle; an empty Ping, answered before the message is delivered.
    assert_eq!(
        unsafe {
            ffi::WebSocketSend(
                client,
                BufferType::PingPong as u32,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        },
        S_OK
    );
    assert_eq!(
        send_data(client, BufferType::BinaryMessage, &mut payload, 1),
        S_OK
    );
    drive(client, ActionQueue::Send, &mut Vec::new(), &mut to_server);
    // SAFETY: a live handle.
    assert_eq!(
        unsafe { ffi::WebSocketReceive(server, ptr::null_mut(), ptr::null_mut()) },
        S_OK
    );
    let mut pong_written = false;
    for _ in 0..100 {
        let a = get_action(server, ActionQueue::All as u32, 2).unwrap();
        for b in &a.buffers {
            // SAFETY: the data arm (no CLOSE here).
            let d = unsafe { b.data };
            if d.length > 0 {
                assert!(
                    inside(d.buffer, d.length),
                    "a pointer outside the allocated buffer"
                );
            }
        }
        let n = match a.kind {
            k if k == ActionKind::NoAction as u32 => break,
            k if k == ActionKind::ReceiveFromNetwork as u32 => {
                // SAFETY: the buffer to read into, writable for its length.
                let d = unsafe { a.buffers[0].data };
                let n = to_server.len().min(d.length as usize);
                // SAFETY: as above.
                unsafe { ptr::copy_nonoverlapping(to_server.as_ptr(), d.buffer, n) };
                to_server.drain(..n);
                n
            }
            k if k == ActionKind::SendToNetwork as u32 => {
                pong_written = true;
                a.buffers.iter().map(|b| data_of(b).len()).sum()
            }
            k if k == ActionKind::IndicateReceiveComplete as u32 => {
                assert_eq!(data_of(&a.buffers[0]), b"ping me");
                0
            }
            _ => 0,
        };
        complete(server, &a, n as u32);
    }
    assert!(pong_written, "the Pong for the Ping was written");
    delete(client);
    delete(server);
    drop(arena);
}

#[test]
fn misuse_is_refused_without_touching_memory() {
    let invalid = Hresult::E_INVALIDARG.0;
    let mut handle = Odd::new(&[ptr::dangling_mut()]);
    // SAFETY: each call passes NULL or valid pointers.
    unsafe {
        assert_eq!(
            ffi::WebSocketCreateClientHandle(ptr::null(), 1, handle.ptr()),
            invalid
        );
        assert!(
            handle.get(0).is_null(),
            "the out-handle is cleared on failure"
        );
        assert_eq!(
            ffi::WebSocketCreateServerHandle(ptr::null(), 0, ptr::null_mut()),
            invalid
        );
        assert_eq!(
            ffi::WebSocketSend(
                ptr::null_mut(),
                BufferType::PingPong as u32,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            invalid
        );
        assert_eq!(
            ffi::WebSocketReceive(ptr::null_mut(), ptr::null_mut(), ptr::null_mut()),
            invalid
        );
        ffi::WebSocketCompleteAction(ptr::null_mut(), ptr::null_mut(), 0);
        ffi::WebSocketAbortHandle(ptr::null_mut());
        ffi::WebSocketDeleteHandle(ptr::null_mut());
    }
    // Global properties with odd-addressed value and size.
    let mut value = Odd::new(&[0u32; 2]);
    let mut size = Odd::new(&[4u32]);
    // SAFETY: `value` has room for `size` bytes.
    let hr = unsafe {
        ffi::WebSocketGetGlobalProperty(
            PropertyType::KeepaliveInterval as u32,
            value.ptr().cast(),
            size.ptr(),
        )
    };
    assert_eq!((hr, value.get(0), size.get(0)), (S_OK, 30_000, 4));
    size.set(0, 0);
    // SAFETY: as above (room for nothing: the call must not write the value).
    let hr = unsafe {
        ffi::WebSocketGetGlobalProperty(
            PropertyType::SupportedVersions as u32,
            value.ptr().cast(),
            size.ptr(),
        )
    };
    assert_eq!((hr, size.get(0)), (Hresult::E_INSUFFICIENT_BUFFER.0, 4));
    // A handle's GetAction with a zero capacity and a NULL array: refused, outputs set.
    let mut none: Odd<WebSocketProperty> = Odd::new(&[]);
    let (client, server) = pair(&mut none);
    assert_eq!(
        get_action(client, ActionQueue::Send as u32, 0).map(|a| a.kind),
        Ok(0)
    );
    // SAFETY: a live handle, NULL out-pointers.
    let hr = unsafe {
        ffi::WebSocketGetAction(
            client,
            3,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(hr, invalid);
    assert_eq!(get_action(client, 9, 2).map(|a| a.kind), Err(invalid));
    delete(client);
    delete(server);
}
