//! The component model, in safe Rust: the data path, control frames, close, protocol
//! errors, abort — the items of the reference's §15 checklist that do not depend on the C
//! ABI (those are in `tests/c/s15_abi.c`), each named `s15_NN_…`, plus the decisions this
//! library took where Windows is undocumented.

mod common;

use common::*;
use websocket::component::{Action, Handle, Property, Received, SendPayload};
use websocket::{ActionQueue, BufferType, Hresult};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// Runs the receive side of `peer` on `wire` and expects a protocol error; returns the
/// frames the component then writes on its own (the failure Close).
fn expect_protocol_error(peer: &mut Peer, wire: &[u8]) -> Vec<Parsed> {
    assert_eq!(
        peer.receive_all(wire),
        Err(Hresult::E_INVALID_PROTOCOL_FORMAT)
    );
    // The error stays: every later GetAction that reaches the queued receive returns it,
    // after the component's own Close frame is handed out.
    assert_eq!(
        peer.run(ActionQueue::Receive),
        Err(Hresult::E_INVALID_PROTOCOL_FORMAT)
    );
    assert_eq!(
        peer.run(ActionQueue::All),
        Err(Hresult::E_INVALID_PROTOCOL_FORMAT)
    );
    parse_frames(&std::mem::take(&mut peer.out))
}

fn failure_code(frames: &[Parsed]) -> u16 {
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].opcode, CLOSE);
    u16::from_be_bytes([frames[0].payload[0], frames[0].payload[1]])
}

// ---------------------------------------------------------------------------------------
// Properties

#[test]
fn s15_04_receive_buffer_size_limits_and_default() {
    for (size, ok) in [(256, true), (255, false), (65536, true), (65537, false)] {
        let r = Handle::new_server(&[Property::ReceiveBufferSize(size)]);
        assert_eq!(r.is_ok(), ok, "{size}");
        if !ok {
            assert_eq!(r.unwrap_err(), Hresult::E_INVALIDARG);
        }
    }
    // The default, observed as the largest buffer a read is offered.
    let (_, mut s) = pair();
    s.h.receive(None, 0).unwrap();
    match s.h.get_action(ActionQueue::Receive, 1).unwrap() {
        Action::ReceiveFromNetwork { buffer, .. } => assert_eq!(buffer.len(), 4096),
        other => panic!("{other:?}"),
    }
    let (_, mut s) = pair_with(&[], &[Property::ReceiveBufferSize(256)]);
    s.h.receive(None, 0).unwrap();
    match s.h.get_action(ActionQueue::Receive, 1).unwrap() {
        Action::ReceiveFromNetwork { buffer, .. } => assert_eq!(buffer.len(), 256),
        other => panic!("{other:?}"),
    }
}

#[test]
fn s15_05_send_buffer_size_defaults_and_masked_chunking() {
    let client = Handle::new_client(&[]).unwrap();
    let server = Handle::new_server(&[]).unwrap();
    assert_eq!(client.properties().send_buffer_size, 4096);
    assert_eq!(server.properties().send_buffer_size, 16);
    assert!(Handle::new_server(&[Property::SendBufferSize(16)]).is_ok());
    assert_eq!(
        Handle::new_server(&[Property::SendBufferSize(15)]).unwrap_err(),
        Hresult::E_INVALIDARG
    );

    // A masked client payload is handed out in pieces of at most the send buffer size.
    let (mut c, _) = pair_with(&[Property::SendBufferSize(256)], &[]);
    let message: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    c.h.send(BufferType::BinaryMessage, data(&message), 5)
        .unwrap();
    let mut pieces = Vec::new();
    let mut wire = Vec::new();
    loop {
        match c.h.get_action(ActionQueue::Send, 2).unwrap() {
            Action::SendToNetwork {
                context, buffers, ..
            } => {
                if let Some(p) = buffers.payload {
                    pieces.push(p.len());
                    assert!(!buffers.payload_is_app_memory);
                }
                buffers.iter().for_each(|b| wire.extend_from_slice(b));
                let n = buffers.total_len();
                c.h.complete_action(context, n);
            }
            Action::IndicateSendComplete { context, .. } => {
                c.h.complete_action(context, 0);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pieces, [256, 256, 256, 232]);
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload, message);
}

#[test]
fn s15_09_disable_masking_client_sends_a_zero_key_without_copy() {
    let (mut c, _) = pair_with(&[Property::DisableMasking(true)], &[]);
    c.h.send(BufferType::BinaryMessage, data(b"plain"), 0)
        .unwrap();
    match c.h.get_action(ActionQueue::Send, 2).unwrap() {
        Action::SendToNetwork { buffers, .. } => {
            assert_eq!(buffers.header, Some(&[0x82, 0x85, 0, 0, 0, 0][..]));
            assert_eq!(buffers.payload, Some(&b"plain"[..]));
            assert!(buffers.payload_is_app_memory);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn s15_10_disable_masking_server_accepts_unmasked_frames() {
    let unmasked = frame(true, 0, TEXT, b"hi", None);
    let (_, mut s) = pair_with(&[], &[Property::DisableMasking(true)]);
    assert_eq!(
        s.receive_all(&unmasked).unwrap(),
        [Got::Data(BufferType::Utf8Message, b"hi".to_vec())]
    );
    let (_, mut s) = pair();
    let failure = expect_protocol_error(&mut s, &unmasked);
    assert_eq!(failure_code(&failure), 1002);
}

#[test]
fn s15_11_disable_utf8_verification_delivers_invalid_text() {
    let bad = client_frame(true, TEXT, b"\xce\xba\xff\xfe");
    let (_, mut s) = pair_with(&[], &[Property::DisableUtf8Verification(true)]);
    assert_eq!(
        s.receive_all(&bad).unwrap(),
        [Got::Data(
            BufferType::Utf8Message,
            b"\xce\xba\xff\xfe".to_vec()
        )]
    );
    let (_, mut s) = pair();
    assert_eq!(failure_code(&expect_protocol_error(&mut s, &bad)), 1007);
}

// ---------------------------------------------------------------------------------------
// Client handshake

fn accept_for(headers: &[websocket::component::OwnedHeader]) -> String {
    let key = &headers
        .iter()
        .find(|h| h.name == "Sec-WebSocket-Key")
        .unwrap()
        .value;
    wspc::handshake::accept_key(key)
}

fn response(accept: &str, extra: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = vec![
        (b"Upgrade".to_vec(), b"websocket".to_vec()),
        (b"Connection".to_vec(), b"Upgrade".to_vec()),
        (b"Sec-WebSocket-Accept".to_vec(), accept.as_bytes().to_vec()),
    ];
    for (n, v) in extra {
        out.push((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    out
}

#[test]
fn s15_16_key_is_16_random_bytes_per_handle() {
    use base64::Engine as _;
    let mut keys = Vec::new();
    for _ in 0..2 {
        let mut c = Handle::new_client(&[]).unwrap();
        let headers = c.begin_client_handshake(&[], &[], &[]).unwrap();
        let key = headers
            .iter()
            .find(|h| h.name == "Sec-WebSocket-Key")
            .unwrap()
            .value
            .clone();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .unwrap();
        assert_eq!(raw.len(), 16);
        keys.push(key);
    }
    assert_ne!(keys[0], keys[1]);
}

#[test]
fn s15_17_offers_are_comma_space_lists() {
    let mut c = Handle::new_client(&[]).unwrap();
    let headers = c
        .begin_client_handshake(&["a", "b"], &["x", "y; p=1"], &[])
        .unwrap();
    let names: Vec<_> = headers.iter().map(|h| h.name).collect();
    assert_eq!(
        names,
        [
            "Connection",
            "Upgrade",
            "Sec-WebSocket-Key",
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions"
        ]
    );
    assert_eq!(headers[4].value, "a, b");
    assert_eq!(headers[5].value, "x, y; p=1");
    // Subprotocols must be tokens; an extension must be one element.
    let mut c = Handle::new_client(&[]).unwrap();
    assert_eq!(
        c.begin_client_handshake(&["a b"], &[], &[]).unwrap_err(),
        Hresult::E_INVALIDARG
    );
    assert_eq!(
        c.begin_client_handshake(&[], &["x, y"], &[]).unwrap_err(),
        Hresult::E_INVALIDARG
    );
}

#[test]
fn s15_19_end_accepts_any_case_and_connection_lists() {
    let mut c = Handle::new_client(&[]).unwrap();
    let accept = accept_for(&c.begin_client_handshake(&[], &[], &[]).unwrap());
    let headers = vec![
        (b"upgrade".to_vec(), b"WebSocket".to_vec()),
        (b"CONNECTION".to_vec(), b"keep-alive, Upgrade".to_vec()),
        (b"sec-websocket-accept".to_vec(), accept.into_bytes()),
        (b"X-Other".to_vec(), b"ignored".to_vec()),
    ];
    assert!(c.end_client_handshake(&borrowed(&headers), None).is_ok());
    assert!(c.is_open());
}

#[test]
fn s15_20_end_with_wrong_or_missing_accept() {
    let mut c = Handle::new_client(&[]).unwrap();
    c.begin_client_handshake(&[], &[], &[]).unwrap();
    let wrong = response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &[]);
    assert_eq!(
        c.end_client_handshake(&borrowed(&wrong), None).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_FORMAT
    );
    let missing: Vec<_> = wrong.into_iter().take(2).collect();
    assert_eq!(
        c.end_client_handshake(&borrowed(&missing), None)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_FORMAT
    );
    // A failed End leaves the handle waiting for another.
    assert!(!c.is_open());
}

#[test]
fn s15_21_end_with_missing_or_wrong_upgrade_or_connection() {
    let mut c = Handle::new_client(&[]).unwrap();
    let accept = accept_for(&c.begin_client_handshake(&[], &[], &[]).unwrap());
    let good = response(&accept, &[]);
    for (i, replacement) in [(0, None), (1, None), (0, Some("foo")), (1, Some("close"))] {
        let mut headers = good.clone();
        match replacement {
            None => {
                headers.remove(i);
            }
            Some(v) => headers[i].1 = v.as_bytes().to_vec(),
        }
        assert_eq!(
            c.end_client_handshake(&borrowed(&headers), None)
                .unwrap_err(),
            Hresult::E_INVALID_PROTOCOL_FORMAT,
            "{headers:?}"
        );
    }
    // A malformed header line is a format error too.
    let mut headers = good.clone();
    headers.push((b"Bad Name".to_vec(), b"x".to_vec()));
    assert_eq!(
        c.end_client_handshake(&borrowed(&headers), None)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_FORMAT
    );
    assert!(c.end_client_handshake(&borrowed(&good), None).is_ok());
}

#[test]
fn s15_22_end_with_subprotocols() {
    let mut c = Handle::new_client(&[]).unwrap();
    let accept = accept_for(
        &c.begin_client_handshake(&["chat", "super"], &[], &[])
            .unwrap(),
    );
    let other = response(&accept, &[("Sec-WebSocket-Protocol", "other")]);
    assert_eq!(
        c.end_client_handshake(&borrowed(&other), None).unwrap_err(),
        Hresult::E_SUBPROTOCOL_NOT_SUPPORTED
    );
    let chosen = response(&accept, &[("Sec-WebSocket-Protocol", "super")]);
    let negotiated = c.end_client_handshake(&borrowed(&chosen), None).unwrap();
    assert_eq!(negotiated.subprotocol, Some(1));

    // Offered but none selected: success, no index (decision).
    let mut c = Handle::new_client(&[]).unwrap();
    let accept = accept_for(&c.begin_client_handshake(&["chat"], &[], &[]).unwrap());
    let negotiated = c
        .end_client_handshake(&borrowed(&response(&accept, &[])), None)
        .unwrap();
    assert_eq!(negotiated.subprotocol, None);
}

#[test]
fn s15_23_end_with_extensions() {
    let offer = ["permessage-deflate; client_max_window_bits", "x-custom"];
    let mut c = Handle::new_client(&[]).unwrap();
    let accept = accept_for(&c.begin_client_handshake(&[], &offer, &[]).unwrap());
    let unknown = response(&accept, &[("Sec-WebSocket-Extensions", "x-other")]);
    assert_eq!(
        c.end_client_handshake(&borrowed(&unknown), None)
            .unwrap_err(),
        Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED
    );
    let both = response(
        &accept,
        &[(
            "Sec-WebSocket-Extensions",
            "x-custom, permessage-deflate; server_no_context_takeover",
        )],
    );
    assert_eq!(
        c.end_client_handshake(&borrowed(&both), Some(1))
            .unwrap_err(),
        Hresult::E_INSUFFICIENT_BUFFER
    );
    let negotiated = c.end_client_handshake(&borrowed(&both), Some(2)).unwrap();
    assert_eq!(negotiated.extensions, [1, 0]);
}

#[test]
fn s15_25_dotnet_fake_client_handshake() {
    // .NET: Begin with its own Connection/Upgrade headers, then End with a response it
    // makes up, carrying the accept value computed from the returned key.
    let mut c = Handle::new_client(&[]).unwrap();
    let initial = [
        (b"Connection".to_vec(), b"Upgrade".to_vec()),
        (b"Upgrade".to_vec(), b"websocket".to_vec()),
    ];
    let headers = c
        .begin_client_handshake(&[], &[], &borrowed(&initial))
        .unwrap();
    let version = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Version"))
        .unwrap();
    assert_eq!(version.value, "13");
    let fake = vec![
        (b"Connection".to_vec(), b"Upgrade".to_vec()),
        (b"Upgrade".to_vec(), b"websocket".to_vec()),
        (
            b"Sec-WebSocket-Accept".to_vec(),
            accept_for(&headers).into_bytes(),
        ),
    ];
    assert!(c.end_client_handshake(&borrowed(&fake), None).is_ok());
    c.send(BufferType::BinaryMessage, data(b"x"), 0).unwrap();
}

// ---------------------------------------------------------------------------------------
// Data path

#[test]
fn s15_32_session_functions_before_the_handshake() {
    let mut c = Handle::new_client(&[]).unwrap();
    let op = Hresult::E_INVALID_PROTOCOL_OPERATION;
    assert_eq!(
        c.send(BufferType::BinaryMessage, data(b"x"), 0)
            .unwrap_err(),
        op
    );
    assert_eq!(c.receive(None, 0).unwrap_err(), op);
    assert_eq!(c.get_action(ActionQueue::All, 2).unwrap_err(), op);
    c.begin_client_handshake(&[], &[], &[]).unwrap();
    assert_eq!(c.receive(None, 0).unwrap_err(), op);
    assert_eq!(c.complete_action(1, 0), None);
}

#[test]
fn s15_33_client_send_hello_world() {
    let (mut c, _) = pair();
    c.h.send(BufferType::Utf8Message, data("Hello World"), 42)
        .unwrap();
    let mut wire = Vec::new();
    match c.h.get_action(ActionQueue::All, 2).unwrap() {
        Action::SendToNetwork {
            context,
            buffer_type,
            buffers,
            app_context,
        } => {
            assert_eq!(buffer_type, BufferType::Utf8Message);
            assert_eq!(app_context, Some(42));
            assert_eq!(buffers.count(), 2);
            let header = buffers.header.unwrap();
            assert_eq!(header.len(), 6);
            assert_eq!(header[..2], [0x81, 0x80 | 11]);
            buffers.iter().for_each(|b| wire.extend_from_slice(b));
            c.h.complete_action(context, wire.len());
        }
        other => panic!("{other:?}"),
    }
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].fin && frames[0].opcode == TEXT && frames[0].mask.is_some());
    assert_eq!(frames[0].payload, b"Hello World");
    match c.h.get_action(ActionQueue::All, 2).unwrap() {
        Action::IndicateSendComplete {
            context,
            buffer_type,
            app_context,
        } => {
            assert_eq!((buffer_type, app_context), (BufferType::Utf8Message, 42));
            c.h.complete_action(context, 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.h.get_action(ActionQueue::All, 2).unwrap(),
        Action::NoAction
    ));
}

#[test]
fn s15_34_server_receives_hello_world() {
    let (mut c, mut s) = pair();
    let wire = c.send(BufferType::Utf8Message, data("Hello World"));
    assert_eq!(
        s.receive_all(&wire).unwrap(),
        [Got::Data(BufferType::Utf8Message, b"Hello World".to_vec())]
    );
}

#[test]
fn s15_35_short_write_cancels_the_send() {
    let (mut c, _) = pair();
    c.h.send(BufferType::BinaryMessage, data(b"abcdef"), 1)
        .unwrap();
    let Action::SendToNetwork {
        context, buffers, ..
    } = c.h.get_action(ActionQueue::Send, 2).unwrap()
    else {
        panic!()
    };
    let n = buffers.total_len() - 1;
    c.h.complete_action(context, n);
    match c.h.get_action(ActionQueue::Send, 2).unwrap() {
        Action::IndicateSendComplete {
            context,
            app_context: 1,
            ..
        } => c.h.complete_action(context, 0),
        other => panic!("{other:?}"),
    };
    // Part of a frame went out: the stream is broken, nothing more can be sent (decision).
    assert_eq!(
        c.h.send(BufferType::BinaryMessage, data(b"x"), 0)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    // Not even the Pongs the component owes.
    assert_eq!(c.receive_all(&server_frame(true, PING, b"p")).unwrap(), []);
    assert!(c.out.is_empty());
}

#[test]
fn zero_byte_write_of_a_whole_frame_skips_only_that_frame() {
    // Decision: completing the first piece of a frame with 0 bytes drops that frame (the
    // stream stays intact; .NET does this for Pongs after its Close) and sending goes on.
    let (mut c, _) = pair();
    c.h.send(BufferType::BinaryMessage, data(b"dropped"), 1)
        .unwrap();
    c.h.send(BufferType::BinaryMessage, data(b"kept"), 2)
        .unwrap();
    let Action::SendToNetwork { context, .. } = c.h.get_action(ActionQueue::Send, 2).unwrap()
    else {
        panic!()
    };
    c.h.complete_action(context, 0);
    c.run(ActionQueue::Send).unwrap();
    assert_eq!(
        c.got,
        [
            Got::Sent(BufferType::BinaryMessage, 1),
            Got::Sent(BufferType::BinaryMessage, 2)
        ]
    );
    let frames = parse_frames(&c.out);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload, b"kept");
}

#[test]
fn s15_36_zero_byte_read_cancels_the_receive() {
    let (_, mut s) = pair();
    s.h.receive(None, 9).unwrap();
    let Action::ReceiveFromNetwork { context, .. } =
        s.h.get_action(ActionQueue::Receive, 1).unwrap()
    else {
        panic!()
    };
    s.h.complete_action(context, 0);
    // Decision: the receive completes as a Close with status 1006 (no Close frame), and the
    // input has ended.
    match s.h.get_action(ActionQueue::Receive, 1).unwrap() {
        Action::IndicateReceiveComplete {
            context,
            buffer_type,
            data,
            app_context,
            ..
        } => {
            assert_eq!(buffer_type, BufferType::Close);
            assert_eq!(
                data,
                Received::Close {
                    status: 1006,
                    reason: &[]
                }
            );
            assert_eq!(app_context, 9);
            s.h.complete_action(context, 0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.h.receive(None, 0).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
}

#[test]
fn s15_37_one_byte_per_read() {
    let (mut c, mut s) = pair();
    let mut wire = c.send(BufferType::Utf8Message, data("héllo wörld"));
    wire.extend(c.send(BufferType::BinaryMessage, data(vec![7u8; 300])));
    s.read_size = 1;
    let got = s.receive_all(&wire).unwrap();
    let mut text = Vec::new();
    let mut binary = Vec::new();
    for g in &got {
        match g {
            Got::Data(BufferType::Utf8Fragment | BufferType::Utf8Message, d) => {
                text.extend_from_slice(d)
            }
            Got::Data(BufferType::BinaryFragment | BufferType::BinaryMessage, d) => {
                binary.extend_from_slice(d)
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(text, "héllo wörld".as_bytes());
    assert_eq!(binary, vec![7u8; 300]);
    let ends: Vec<_> = got
        .iter()
        .filter(|g| {
            matches!(
                g,
                Got::Data(BufferType::Utf8Message | BufferType::BinaryMessage, _)
            )
        })
        .collect();
    assert_eq!(ends.len(), 2);
}

#[test]
fn s15_38_large_message_arrives_in_chunks_of_the_receive_buffer() {
    let (mut c, mut s) = pair_with(&[], &[Property::ReceiveBufferSize(256)]);
    let message: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let wire = c.send(BufferType::BinaryMessage, data(&message));
    let got = s.receive_all(&wire).unwrap();
    let sizes: Vec<usize> = got
        .iter()
        .map(|g| match g {
            Got::Data(_, d) => d.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(sizes.iter().all(|&n| n <= 256), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 1000);
    let types: Vec<BufferType> = got
        .iter()
        .map(|g| match g {
            Got::Data(t, _) => *t,
            _ => unreachable!(),
        })
        .collect();
    let (last, rest) = types.split_last().unwrap();
    assert_eq!(*last, BufferType::BinaryMessage);
    assert!(rest.iter().all(|t| *t == BufferType::BinaryFragment));
    assert!(rest.len() >= 3);
}

#[test]
fn s15_39_fragmented_wire_message_keeps_the_text_type() {
    let (_, mut s) = pair();
    let mut wire = client_frame(false, TEXT, b"one ");
    wire.extend(client_frame(false, CONT, b"two "));
    wire.extend(client_frame(true, CONT, b"three"));
    let got = s.receive_all(&wire).unwrap();
    assert_eq!(
        got,
        [
            Got::Data(BufferType::Utf8Fragment, b"one ".to_vec()),
            Got::Data(BufferType::Utf8Fragment, b"two ".to_vec()),
            Got::Data(BufferType::Utf8Message, b"three".to_vec()),
        ]
    );
}

#[test]
fn s15_40_sending_fragments() {
    let (mut c, _) = pair();
    let mut wire = c.send(BufferType::BinaryFragment, data(b"a"));
    wire.extend(c.send(BufferType::BinaryFragment, data(b"b")));
    wire.extend(c.send(BufferType::BinaryMessage, data(b"c")));
    let frames = parse_frames(&wire);
    let shape: Vec<(bool, u8)> = frames.iter().map(|f| (f.fin, f.opcode)).collect();
    assert_eq!(shape, [(false, BINARY), (false, CONT), (true, CONT)]);
    let mut wire = c.send(BufferType::Utf8Fragment, data(b"x"));
    wire.extend(c.send(BufferType::Utf8Message, data(b"y")));
    let shape: Vec<(bool, u8)> = parse_frames(&wire)
        .iter()
        .map(|f| (f.fin, f.opcode))
        .collect();
    assert_eq!(shape, [(false, TEXT), (true, CONT)]);
}

#[test]
fn s15_41_switching_type_mid_message() {
    let (mut c, _) = pair();
    c.send(BufferType::Utf8Fragment, data(b"x"));
    let op = Hresult::E_INVALID_PROTOCOL_OPERATION;
    assert_eq!(
        c.h.send(BufferType::BinaryMessage, data(b"y"), 0)
            .unwrap_err(),
        op
    );
    assert_eq!(
        c.h.send(BufferType::BinaryFragment, data(b"y"), 0)
            .unwrap_err(),
        op
    );
    // Control frames may be interleaved; the message can still be finished.
    c.send(BufferType::PingPong, SendPayload::None);
    c.send(BufferType::Utf8Message, data(b"z"));
}

#[test]
fn s15_43_one_outstanding_action_per_queue() {
    let (mut c, _) = pair();
    c.h.send(BufferType::BinaryMessage, data(b"1"), 0).unwrap();
    c.h.send(BufferType::BinaryMessage, data(b"2"), 0).unwrap();
    let first = c.h.get_action(ActionQueue::Send, 2).unwrap().context();
    assert!(matches!(
        c.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::NoAction
    ));
    assert!(matches!(
        c.h.get_action(ActionQueue::All, 2).unwrap(),
        Action::NoAction
    ));
    // A stale or unknown context changes nothing.
    c.h.complete_action(first + 100, 8);
    assert!(matches!(
        c.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::NoAction
    ));
    c.h.complete_action(first, 7);
    assert!(matches!(
        c.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::IndicateSendComplete { .. }
    ));
}

#[test]
fn s15_46_bytes_on_indications_are_ignored() {
    let (mut c, mut s) = pair();
    let wire = c.send(BufferType::BinaryMessage, data(b"abc"));
    s.inbox.extend(wire);
    s.h.receive(None, 0).unwrap();
    let Action::ReceiveFromNetwork {
        context, buffer, ..
    } = s.h.get_action(ActionQueue::Receive, 1).unwrap()
    else {
        panic!()
    };
    let n = read_into(&mut s.inbox, buffer);
    s.h.complete_action(context, n);
    let indication = s.h.get_action(ActionQueue::Receive, 1).unwrap().context();
    s.h.complete_action(indication, 12345);
    assert!(matches!(
        s.h.get_action(ActionQueue::Receive, 1).unwrap(),
        Action::NoAction
    ));
    c.h.send(BufferType::BinaryMessage, data(b"x"), 0).unwrap();
    let Action::SendToNetwork {
        context, buffers, ..
    } = c.h.get_action(ActionQueue::Send, 2).unwrap()
    else {
        panic!()
    };
    let n = buffers.total_len();
    c.h.complete_action(context, n);
    let indication = c.h.get_action(ActionQueue::Send, 2).unwrap().context();
    c.h.complete_action(indication, 999);
    assert!(matches!(
        c.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::NoAction
    ));
}

#[test]
fn s15_76_a_complete_frame_is_indicated_without_another_read() {
    let (mut c, mut s) = pair();
    let mut wire = c.send(BufferType::BinaryMessage, data(b"one"));
    wire.extend(c.send(BufferType::BinaryMessage, data(b"two")));
    s.inbox.extend(wire);
    s.h.receive(None, 0).unwrap();
    s.h.receive(None, 0).unwrap();
    // One read takes both frames; both receives then complete without another read.
    let mut reads = 0;
    let mut got = Vec::new();
    loop {
        match s.h.get_action(ActionQueue::Receive, 1).unwrap() {
            Action::ReceiveFromNetwork {
                context, buffer, ..
            } => {
                reads += 1;
                assert!(
                    !s.inbox.is_empty(),
                    "asked to read with a whole frame buffered"
                );
                let n = read_into(&mut s.inbox, buffer);
                s.h.complete_action(context, n);
            }
            Action::IndicateReceiveComplete {
                context,
                data: Received::Data(d),
                ..
            } => {
                got.push(d.to_vec());
                s.h.complete_action(context, 0);
            }
            Action::NoAction => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reads, 1);
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
}

#[test]
fn receive_into_an_application_buffer_is_bounded_by_its_length() {
    use websocket::component::AppBuffer;
    let (mut c, mut s) = pair();
    let wire = c.send(BufferType::Utf8Message, data("0123456789"));
    s.inbox.extend(wire);
    let target = AppBuffer {
        addr: 0x1000,
        len: 4,
    };
    let mut got = Vec::new();
    for _ in 0..3 {
        s.h.receive(Some(target), 0).unwrap();
        s.run(ActionQueue::Receive).unwrap();
        got.append(&mut s.got);
    }
    assert_eq!(
        got,
        [
            Got::Data(BufferType::Utf8Fragment, b"0123".to_vec()),
            Got::Data(BufferType::Utf8Fragment, b"4567".to_vec()),
            Got::Data(BufferType::Utf8Message, b"89".to_vec()),
        ]
    );
    assert_eq!(
        s.h.receive(Some(AppBuffer { addr: 1, len: 0 }), 0)
            .unwrap_err(),
        Hresult::E_INVALIDARG
    );
}

// ---------------------------------------------------------------------------------------
// Control frames

#[test]
fn s15_47_received_ping_is_answered_on_the_receive_queue() {
    let (_, mut s) = pair();
    s.inbox.extend(client_frame(true, PING, b"abc"));
    s.h.receive(None, 0).unwrap();
    s.run(ActionQueue::Receive).unwrap(); // reads the ping, writes the pong, waits for more
    assert!(s.got.is_empty(), "the ping is not surfaced");
    assert_eq!(s.out, [0x8A, 0x03, b'a', b'b', b'c']);

    // The pong is a receive-queue action without application context, not on the send
    // queue.
    let (_, mut s) = pair();
    s.inbox.extend(client_frame(true, PING, b"xyz"));
    s.h.receive(None, 77).unwrap();
    let Action::ReceiveFromNetwork {
        context, buffer, ..
    } = s.h.get_action(ActionQueue::Receive, 1).unwrap()
    else {
        panic!()
    };
    let n = read_into(&mut s.inbox, buffer);
    s.h.complete_action(context, n);
    assert!(matches!(
        s.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::NoAction
    ));
    match s.h.get_action(ActionQueue::All, 2).unwrap() {
        Action::SendToNetwork {
            buffer_type,
            app_context,
            buffers,
            ..
        } => {
            assert_eq!(buffer_type, BufferType::PingPong);
            assert_eq!(app_context, None);
            assert_eq!(buffers.header, Some(&[0x8A, 0x03][..]));
            assert_eq!(buffers.payload, Some(&b"xyz"[..]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn s15_48_received_pong_is_delivered() {
    let (_, mut s) = pair();
    assert_eq!(
        s.receive_all(&client_frame(true, PONG, b"hb")).unwrap(),
        [Got::Data(BufferType::PingPong, b"hb".to_vec())]
    );
    let (mut c, _) = pair();
    assert_eq!(
        c.receive_all(&server_frame(true, PONG, b"")).unwrap(),
        [Got::Data(BufferType::PingPong, vec![])]
    );
}

#[test]
fn s15_49_sending_pings_and_unsolicited_pongs() {
    let (mut c, _) = pair();
    let ping = parse_frames(&c.send(BufferType::PingPong, SendPayload::None));
    assert_eq!((ping[0].opcode, ping[0].payload.len()), (PING, 0));
    let pong = parse_frames(&c.send(BufferType::UnsolicitedPong, SendPayload::None));
    assert_eq!((pong[0].opcode, pong[0].payload.len()), (PONG, 0));
    for t in [BufferType::PingPong, BufferType::UnsolicitedPong] {
        assert_eq!(
            c.h.send(t, data(b""), 0).unwrap_err(),
            Hresult::E_INVALIDARG
        );
    }
}

#[test]
fn s15_50_ping_inside_a_fragmented_message() {
    let (_, mut s) = pair();
    let mut wire = client_frame(false, TEXT, b"frag");
    wire.extend(client_frame(true, PING, b"p"));
    wire.extend(client_frame(true, CONT, b"ment"));
    let got = s.receive_all(&wire).unwrap();
    let text: Vec<u8> = got
        .iter()
        .flat_map(|g| match g {
            Got::Data(_, d) => d.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(text, b"fragment");
    assert_eq!(
        got.last(),
        Some(&Got::Data(BufferType::Utf8Message, b"ment".to_vec()))
    );
    assert_eq!(s.out, [0x8A, 0x01, b'p']);
}

#[test]
fn s15_51_bad_control_frames() {
    let (_, mut s) = pair();
    let long = client_frame(true, PING, &[0u8; 126]);
    assert_eq!(failure_code(&expect_protocol_error(&mut s, &long)), 1002);
    let (_, mut s) = pair();
    let fragmented = client_frame(false, PING, b"x");
    assert_eq!(
        failure_code(&expect_protocol_error(&mut s, &fragmented)),
        1002
    );
}

// ---------------------------------------------------------------------------------------
// Close

#[test]
fn s15_52_sending_close() {
    let (mut c, _) = pair();
    let wire = c.send(
        BufferType::Close,
        SendPayload::Close {
            status: 1000,
            reason: "bye".into(),
        },
    );
    let frames = parse_frames(&wire);
    assert_eq!(wire[0], 0x88);
    assert_eq!(frames[0].payload, b"\x03\xe8bye");
    assert_eq!(
        c.h.send(BufferType::BinaryMessage, data(b"x"), 0)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    assert!(c.h.send(BufferType::PingPong, SendPayload::None, 0).is_ok());
    assert_eq!(
        c.h.send(BufferType::Close, SendPayload::None, 0)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
}

#[test]
fn s15_53_sending_close_without_status() {
    let (_, mut s) = pair();
    assert_eq!(s.send(BufferType::Close, SendPayload::None), [0x88, 0x00]);
    // Decision: status 1005 with an empty reason is the same status-less Close frame.
    let (_, mut s) = pair();
    assert_eq!(
        s.send(
            BufferType::Close,
            SendPayload::Close {
                status: 1005,
                reason: "".into()
            }
        ),
        [0x88, 0x00]
    );
}

#[test]
fn s15_55_unsendable_close_statuses() {
    for (status, reason) in [
        (1005, "x"),
        (1006, ""),
        (1015, ""),
        (999, ""),
        (1004, ""),
        (1016, ""),
        (5000, ""),
    ] {
        let (mut c, _) = pair();
        assert_eq!(
            c.h.send(
                BufferType::Close,
                SendPayload::Close {
                    status,
                    reason: reason.into()
                },
                0
            )
            .unwrap_err(),
            Hresult::E_INVALIDARG,
            "{status}"
        );
    }
    let (mut c, _) = pair();
    assert_eq!(
        c.h.send(
            BufferType::Close,
            SendPayload::Close {
                status: 1000,
                reason: b"\xff".as_slice().into()
            },
            0
        )
        .unwrap_err(),
        Hresult::E_INVALIDARG
    );
    for status in [1000, 1001, 1003, 1007, 1011, 1012, 3000, 4999] {
        let (mut c, _) = pair();
        assert!(
            c.h.send(
                BufferType::Close,
                SendPayload::Close {
                    status,
                    reason: "".into()
                },
                0
            )
            .is_ok(),
            "{status}"
        );
    }
}

#[test]
fn s15_56_received_close() {
    let (_, mut s) = pair();
    assert_eq!(
        s.receive_all(&client_frame(true, CLOSE, &close_payload(1001, b"x")))
            .unwrap(),
        [Got::Close(1001, b"x".to_vec())]
    );
    let (_, mut s) = pair();
    assert_eq!(
        s.receive_all(&client_frame(true, CLOSE, b"")).unwrap(),
        [Got::Close(1005, vec![])]
    );
}

#[test]
fn s15_57_bad_received_close() {
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![0x03], 1002),
        (close_payload(1005, b""), 1002),
        (close_payload(1006, b""), 1002),
        (close_payload(1015, b""), 1002),
        (close_payload(999, b""), 1002),
        (close_payload(5000, b""), 1002),
        (close_payload(1000, b"\xce\xba\xed\xa0\x80"), 1007),
    ];
    for (payload, code) in cases {
        let (_, mut s) = pair();
        let failure = expect_protocol_error(&mut s, &client_frame(true, CLOSE, &payload));
        assert_eq!(failure_code(&failure), code, "{payload:?}");
    }
}

#[test]
fn s15_58_received_close_is_not_echoed_by_the_component() {
    let (mut c, mut s) = pair();
    let close = c.send(
        BufferType::Close,
        SendPayload::Close {
            status: 4000,
            reason: "done".into(),
        },
    );
    assert_eq!(
        s.receive_all(&close).unwrap(),
        [Got::Close(4000, b"done".to_vec())]
    );
    s.run(ActionQueue::All).unwrap();
    assert!(s.out.is_empty(), "no automatic reply");
    let reply = s.send(
        BufferType::Close,
        SendPayload::Close {
            status: 4000,
            reason: "".into(),
        },
    );
    assert_eq!(parse_frames(&reply)[0].payload, 4000u16.to_be_bytes());
    assert_eq!(
        s.h.receive(None, 0).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    assert_eq!(c.receive_all(&reply).unwrap(), [Got::Close(4000, vec![])]);
    assert_eq!(
        c.h.receive(None, 0).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
}

#[test]
fn s15_59_frames_after_a_close_are_ignored() {
    let (_, mut s) = pair();
    let mut wire = client_frame(true, CLOSE, &close_payload(1000, b""));
    wire.extend(client_frame(true, TEXT, b"late"));
    s.inbox.extend(wire);
    s.h.receive(None, 1).unwrap();
    s.h.receive(None, 2).unwrap();
    s.run(ActionQueue::Receive).unwrap();
    // Decision: the data is ignored; a receive queued behind the Close completes as a
    // Close with 1006 (nothing more will arrive).
    assert_eq!(s.got, [Got::Close(1000, vec![]), Got::Close(1006, vec![])]);
}

// ---------------------------------------------------------------------------------------
// Protocol errors

#[test]
fn s15_60_reserved_bits() {
    for rsv in [4, 2, 1] {
        let (_, mut s) = pair();
        let f = frame(true, rsv, TEXT, b"x", Some([1, 2, 3, 4]));
        assert_eq!(failure_code(&expect_protocol_error(&mut s, &f)), 1002);
    }
}

#[test]
fn s15_61_reserved_opcodes() {
    for opcode in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let (_, mut s) = pair();
        let f = client_frame(true, opcode, b"");
        assert_eq!(failure_code(&expect_protocol_error(&mut s, &f)), 1002);
    }
}

#[test]
fn s15_62_continuation_rules() {
    let (_, mut s) = pair();
    assert_eq!(
        failure_code(&expect_protocol_error(
            &mut s,
            &client_frame(true, CONT, b"x")
        )),
        1002
    );
    let (_, mut s) = pair();
    let mut wire = client_frame(false, TEXT, b"a");
    wire.extend(client_frame(true, BINARY, b"b"));
    assert_eq!(failure_code(&expect_protocol_error(&mut s, &wire)), 1002);
    // The first fragment was delivered before the error.
    assert_eq!(
        s.got.first(),
        Some(&Got::Data(BufferType::Utf8Fragment, b"a".to_vec()))
    );
}

#[test]
fn s15_63_masking_rules() {
    let (mut c, _) = pair();
    let masked = frame(true, 0, TEXT, b"x", Some([9, 9, 9, 9]));
    assert_eq!(failure_code(&expect_protocol_error(&mut c, &masked)), 1002);
    let (_, mut s) = pair();
    let unmasked = server_frame(true, TEXT, b"x");
    assert_eq!(
        failure_code(&expect_protocol_error(&mut s, &unmasked)),
        1002
    );
}

#[test]
fn s15_64_length_encodings() {
    // The top bit of a 64-bit length.
    let (mut c, _) = pair();
    let mut f = vec![0x82, 127];
    f.extend_from_slice(&(1u64 << 63).to_be_bytes());
    assert_eq!(failure_code(&expect_protocol_error(&mut c, &f)), 1002);
    // Decision (the engine's): non-minimal encodings are rejected.
    let (mut c, _) = pair();
    let f = [0x82, 126, 0, 5, 1, 2, 3, 4, 5];
    assert_eq!(failure_code(&expect_protocol_error(&mut c, &f)), 1002);
    let (mut c, _) = pair();
    let mut f = vec![0x82, 127];
    f.extend_from_slice(&200u64.to_be_bytes());
    f.extend(vec![0u8; 200]);
    assert_eq!(failure_code(&expect_protocol_error(&mut c, &f)), 1002);
}

#[test]
fn s15_65_utf8_validation() {
    for bad in [
        &b"\xc0\xaf"[..],            // overlong
        b"\xed\xa0\x80",             // surrogate
        b"\xf4\x90\x80\x80",         // above U+10FFFF
        b"ok\xe2\x82",               // truncated at the end of the message
        b"\xce\xba\xe1\xbd\xb9\xff", // invalid byte
    ] {
        let (_, mut s) = pair();
        let failure = expect_protocol_error(&mut s, &client_frame(true, TEXT, bad));
        assert_eq!(failure_code(&failure), 1007, "{bad:?}");
    }
    // A code point split across frames (and across chunks) is fine.
    let (_, mut s) = pair();
    let mut wire = client_frame(false, TEXT, b"\xe2");
    wire.extend(client_frame(false, CONT, b"\x82"));
    wire.extend(client_frame(true, CONT, b"\xac"));
    let got = s.receive_all(&wire).unwrap();
    let all: Vec<u8> = got
        .iter()
        .flat_map(|g| match g {
            Got::Data(_, d) => d.clone(),
            _ => vec![],
        })
        .collect();
    assert_eq!(all, "€".as_bytes());
}

#[test]
fn utf8_fails_fast_in_the_middle_of_a_frame() {
    // The invalid byte is detected as soon as it arrives, before the frame is complete.
    let (_, mut s) = pair();
    let mut f = client_frame(true, TEXT, b"valid\xffrest-of-a-long-frame");
    f.truncate(2 + 4 + 6); // header, key, "valid" and the bad byte; the rest never comes
    assert_eq!(failure_code(&expect_protocol_error(&mut s, &f)), 1007);
}

#[test]
fn protocol_error_reporting_sequence() {
    // Decision: the GetAction that meets the error returns E_INVALID_PROTOCOL_FORMAT; the
    // next hands out the Close frame the engine queued (1002 here) on the receive queue;
    // queued sends that had not started are cancelled; from then on every GetAction that
    // reaches a queued receive returns the error again, until abort.
    let (_, mut s) = pair();
    s.h.send(BufferType::BinaryMessage, data(b"queued"), 5)
        .unwrap();
    s.inbox.extend(client_frame(true, 0x3, b""));
    s.h.receive(None, 1).unwrap();
    let Action::ReceiveFromNetwork {
        context, buffer, ..
    } = s.h.get_action(ActionQueue::Receive, 1).unwrap()
    else {
        panic!()
    };
    let n = read_into(&mut s.inbox, buffer);
    s.h.complete_action(context, n);
    assert_eq!(
        s.h.get_action(ActionQueue::Receive, 1).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_FORMAT
    );
    match s.h.get_action(ActionQueue::All, 2).unwrap() {
        Action::SendToNetwork {
            context,
            buffer_type,
            buffers,
            app_context,
        } => {
            assert_eq!((buffer_type, app_context), (BufferType::Close, None));
            let mut wire = Vec::new();
            buffers.iter().for_each(|b| wire.extend_from_slice(b));
            assert_eq!(failure_code(&parse_frames(&wire)), 1002);
            s.h.complete_action(context, wire.len());
        }
        other => panic!("{other:?}"),
    }
    match s.h.get_action(ActionQueue::All, 2).unwrap() {
        Action::IndicateSendComplete {
            context,
            app_context: 5,
            ..
        } => s.h.complete_action(context, 0),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        s.h.get_action(ActionQueue::All, 2).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_FORMAT
    );
    assert!(matches!(
        s.h.get_action(ActionQueue::Send, 2).unwrap(),
        Action::NoAction
    ));
    assert_eq!(
        s.h.receive(None, 0).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    assert_eq!(
        s.h.send(BufferType::BinaryMessage, data(b"x"), 0)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
}

// ---------------------------------------------------------------------------------------
// Abort

/// Drains `queue` after abort as .NET does (one buffer, complete with 0): returns the
/// completed operations.
fn drain(h: &mut Handle, queue: ActionQueue) -> Vec<(BufferType, usize)> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let (context, entry) = match h.get_action(queue, 1).expect("drain never fails") {
            Action::NoAction => return out,
            Action::IndicateSendComplete {
                context,
                buffer_type,
                app_context,
            } => (context, (buffer_type, app_context)),
            Action::IndicateReceiveComplete {
                context,
                buffer_type,
                app_context,
                ..
            } => (context, (buffer_type, app_context)),
            other => panic!("network action after abort: {other:?}"),
        };
        out.push(entry);
        h.complete_action(context, 0);
    }
    panic!("drain did not end");
}

#[test]
fn s15_66_abort_after_a_protocol_error_completes_everything_once() {
    let (_, mut s) = pair();
    s.h.send(BufferType::BinaryMessage, data(b"a"), 1).unwrap();
    s.h.send(BufferType::BinaryMessage, data(b"b"), 2).unwrap();
    s.inbox.extend(client_frame(true, 0xF, b""));
    s.h.receive(None, 3).unwrap();
    s.h.receive(None, 4).unwrap();
    assert_eq!(
        s.run(ActionQueue::Receive),
        Err(Hresult::E_INVALID_PROTOCOL_FORMAT)
    );
    s.h.abort();
    assert_eq!(
        drain(&mut s.h, ActionQueue::Send),
        [
            (BufferType::BinaryMessage, 1),
            (BufferType::BinaryMessage, 2)
        ]
    );
    assert_eq!(
        drain(&mut s.h, ActionQueue::Receive),
        [(BufferType::Close, 3), (BufferType::Close, 4)]
    );
    assert!(s.out.is_empty(), "nothing is written after abort");
}

#[test]
fn s15_68_abort_in_the_middle_of_operations() {
    let (mut c, _) = pair();
    c.h.send(BufferType::BinaryMessage, data(vec![1u8; 10_000]), 1)
        .unwrap();
    c.h.send(BufferType::Utf8Message, data("t"), 2).unwrap();
    c.h.receive(None, 3).unwrap();
    // A SEND_TO_NETWORK is outstanding when the handle is aborted.
    let Action::SendToNetwork {
        context, buffers, ..
    } = c.h.get_action(ActionQueue::Send, 2).unwrap()
    else {
        panic!()
    };
    let n = buffers.total_len();
    c.h.abort();
    assert_eq!(
        c.h.send(BufferType::PingPong, SendPayload::None, 0)
            .unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    assert_eq!(
        c.h.receive(None, 0).unwrap_err(),
        Hresult::E_INVALID_PROTOCOL_OPERATION
    );
    // The send queue has its outstanding action: nothing until it is completed.
    assert!(drain(&mut c.h, ActionQueue::Send).is_empty());
    c.h.complete_action(context, n);
    assert_eq!(
        drain(&mut c.h, ActionQueue::Send),
        [(BufferType::BinaryMessage, 1), (BufferType::Utf8Message, 2)]
    );
    assert_eq!(
        drain(&mut c.h, ActionQueue::Receive),
        [(BufferType::Close, 3)]
    );
    assert!(drain(&mut c.h, ActionQueue::All).is_empty());
    // Abort again is harmless.
    c.h.abort();
}

#[test]
fn s15_67_abort_before_the_handshake_does_nothing() {
    let mut c = Handle::new_client(&[]).unwrap();
    c.abort();
    let headers = c.begin_client_handshake(&[], &[], &[]).unwrap();
    c.abort();
    let accept = accept_for(&headers);
    assert!(
        c.end_client_handshake(&borrowed(&response(&accept, &[])), None)
            .is_ok()
    );
    assert!(c.send(BufferType::BinaryMessage, data(b"x"), 0).is_ok());
}

#[test]
fn generated_pongs_are_bounded() {
    // A peer that pings faster than the pongs can be written does not grow memory without
    // bound: the oldest unsent pongs are dropped (RFC 6455 §5.5.3).
    let (mut c, mut s) = pair();
    // The wire is busy: the header of a server message is handed out (one buffer) and not
    // yet written, so the pongs for the pings below cannot go out meanwhile.
    s.h.send(BufferType::BinaryMessage, data(vec![0u8; 100]), 0)
        .unwrap();
    let (context, header) = match s.h.get_action(ActionQueue::Send, 1).unwrap() {
        Action::SendToNetwork {
            context, buffers, ..
        } => {
            assert!(buffers.payload.is_none());
            (context, buffers.header.unwrap().to_vec())
        }
        other => panic!("{other:?}"),
    };
    let mut wire = Vec::new();
    for i in 0..200u32 {
        wire.extend(client_frame(true, PING, &i.to_be_bytes()));
    }
    wire.extend(c.send(BufferType::BinaryMessage, data(b"end")));
    s.inbox.extend(wire);
    s.h.receive(None, 0).unwrap();
    s.run(ActionQueue::Receive).unwrap();
    assert_eq!(
        s.got,
        [Got::Data(BufferType::BinaryMessage, b"end".to_vec())]
    );
    s.out.extend_from_slice(&header);
    s.h.complete_action(context, header.len());
    s.run(ActionQueue::All).unwrap();
    let frames = parse_frames(&s.out);
    let pongs: Vec<u32> = frames
        .iter()
        .filter(|f| f.opcode == PONG)
        .map(|f| u32::from_be_bytes(f.payload[..4].try_into().unwrap()))
        .collect();
    assert!(pongs.len() <= 64, "{}", pongs.len());
    assert_eq!(pongs.last(), Some(&199), "the latest ping is answered");
}

#[test]
fn a_pong_blocked_by_an_application_frame_leaves_at_the_next_frame_boundary() {
    // Decision: a Pong owed while an application frame is half written waits for that
    // frame; it may then leave through the send queue too (before the next application
    // frame), so it does not depend on the receive queue being driven again.
    let (_, mut s) = pair();
    s.h.send(BufferType::BinaryMessage, data(b"first"), 1)
        .unwrap();
    s.h.send(BufferType::BinaryMessage, data(b"second"), 2)
        .unwrap();
    let (context, header) = match s.h.get_action(ActionQueue::Send, 1).unwrap() {
        Action::SendToNetwork {
            context, buffers, ..
        } => (context, buffers.header.unwrap().to_vec()),
        other => panic!("{other:?}"),
    };
    s.out.extend_from_slice(&header);
    // A ping arrives and is read while the header is outstanding.
    s.inbox.extend(client_frame(true, PING, b"p"));
    s.h.receive(None, 0).unwrap();
    s.run(ActionQueue::Receive).unwrap();
    assert!(s.got.is_empty());
    s.h.complete_action(context, header.len());
    // Only the send queue is driven from now on.
    s.run(ActionQueue::Send).unwrap();
    let frames = parse_frames(&s.out);
    let order: Vec<(u8, Vec<u8>)> = frames.into_iter().map(|f| (f.opcode, f.payload)).collect();
    assert_eq!(
        order,
        [
            (BINARY, b"first".to_vec()),
            (PONG, b"p".to_vec()),
            (BINARY, b"second".to_vec())
        ]
    );
}
