// The flow of Microsoft's WebSocket sample, in C++: a client handle and a server handle
// exchange the opening handshake and messages through an in-memory transport, driven by
// the usual GetAction / CompleteAction loop on WEB_SOCKET_ALL_ACTION_QUEUE. Extended with
// a reply from the server, a ping, and the close handshake, then both handles are deleted.
#include <websocket.h>

#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// Bytes written by one side and not yet read by the other.
struct Pipe {
    std::deque<unsigned char> bytes;

    void write(const BYTE *data, ULONG length) { bytes.insert(bytes.end(), data, data + length); }

    ULONG read(BYTE *data, ULONG length) {
        ULONG n = 0;
        while (n < length && !bytes.empty()) {
            data[n++] = bytes.front();
            bytes.pop_front();
        }
        return n;
    }
};

struct Delivered {
    WEB_SOCKET_BUFFER_TYPE type;
    std::string data;
    USHORT status;
};

// One side: its handle, and a read that found no data and waits (as an asynchronous read
// would) until the other side has written something.
struct Peer {
    WEB_SOCKET_HANDLE handle;
    PVOID parked_context;
    BYTE *parked_buffer;
    ULONG parked_length;
};

// Runs the action loop of `peer` until NO_ACTION: writes go to `out`, reads come from `in`
// (a read with no data is parked until data arrives), completed receives are appended to
// `delivered`. Returns the first failure.
HRESULT run_loop(Peer &peer, Pipe &in, Pipe &out, std::vector<Delivered> &delivered) {
    if (peer.parked_context != NULL && !in.bytes.empty()) {
        ULONG n = in.read(peer.parked_buffer, peer.parked_length);
        WebSocketCompleteAction(peer.handle, peer.parked_context, n);
        peer.parked_context = NULL;
    }
    HRESULT result = S_OK;
    WEB_SOCKET_ACTION action;
    int guard = 0;
    do {
        WEB_SOCKET_BUFFER buffers[2];
        ULONG count = 2;
        ULONG transferred = 0;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID action_context;
        HRESULT hr = WebSocketGetAction(peer.handle, WEB_SOCKET_ALL_ACTION_QUEUE, buffers, &count, &action,
                                        &type, NULL, &action_context);
        if (FAILED(hr)) {
            result = hr;
            WebSocketAbortHandle(peer.handle);
        }
        switch (action) {
        case WEB_SOCKET_NO_ACTION:
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION:
            CHECK(count == 1);
            if (in.bytes.empty()) {
                peer.parked_context = action_context;
                peer.parked_buffer = buffers[0].Data.pbBuffer;
                peer.parked_length = buffers[0].Data.ulBufferLength;
                continue;
            }
            transferred = in.read(buffers[0].Data.pbBuffer, buffers[0].Data.ulBufferLength);
            break;
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION: {
            CHECK(count == 1);
            Delivered d;
            d.type = type;
            d.status = 0;
            if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                d.status = buffers[0].CloseStatus.usStatus;
                d.data.assign((const char *)buffers[0].CloseStatus.pbReason,
                              buffers[0].CloseStatus.ulReasonLength);
            } else {
                d.data.assign((const char *)buffers[0].Data.pbBuffer, buffers[0].Data.ulBufferLength);
            }
            delivered.push_back(d);
            break;
        }
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION:
            CHECK(count >= 1 && count <= 2);
            for (ULONG i = 0; i < count; i++) {
                out.write(buffers[i].Data.pbBuffer, buffers[i].Data.ulBufferLength);
                transferred += buffers[i].Data.ulBufferLength;
            }
            break;
        case WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION:
            break;
        default:
            CHECK(!"unknown action");
        }
        // As the sample does: complete unconditionally, NO_ACTION included.
        WebSocketCompleteAction(peer.handle, action_context, transferred);
    } while (action != WEB_SOCKET_NO_ACTION && ++guard < 1000);
    CHECK(guard < 1000);
    return result;
}

HRESULT handshake(WEB_SOCKET_HANDLE client, WEB_SOCKET_HANDLE server) {
    PWEB_SOCKET_HTTP_HEADER client_headers = NULL;
    ULONG client_count = 0;
    HRESULT hr = WebSocketBeginClientHandshake(client, NULL, 0, NULL, 0, NULL, 0, &client_headers,
                                               &client_count);
    if (FAILED(hr))
        return hr;
    // The application's own Host header, appended as the sample does.
    std::vector<WEB_SOCKET_HTTP_HEADER> request(client_headers, client_headers + client_count);
    static char host_name[] = "Host";
    static char host_value[] = "localhost";
    WEB_SOCKET_HTTP_HEADER host = {host_name, 4, host_value, 9};
    request.push_back(host);

    PWEB_SOCKET_HTTP_HEADER server_headers = NULL;
    ULONG server_count = 0;
    hr = WebSocketBeginServerHandshake(server, NULL, NULL, 0, &request[0], (ULONG)request.size(),
                                       &server_headers, &server_count);
    if (FAILED(hr))
        return hr;
    // The server's array is read by the client before the server's End call.
    hr = WebSocketEndClientHandshake(client, server_headers, server_count, NULL, 0, NULL);
    if (FAILED(hr))
        return hr;
    return WebSocketEndServerHandshake(server);
}

Peer client = {NULL, NULL, NULL, 0};
Peer server = {NULL, NULL, NULL, 0};
Pipe to_server, to_client;

void sample_handshake() {
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &client.handle), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &server.handle), S_OK);
    CHECK(client.handle != NULL && server.handle != NULL && client.handle != server.handle);
    CHECK_HR(handshake(client.handle, server.handle), S_OK);
}

void sample_client_sends_hello_world() {
    BYTE hello[] = {'H', 'e', 'l', 'l', 'o', ' ', 'W', 'o', 'r', 'l', 'd'};
    WEB_SOCKET_BUFFER buffer;
    buffer.Data.pbBuffer = hello;
    buffer.Data.ulBufferLength = sizeof hello;
    CHECK_HR(WebSocketSend(client.handle, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, &buffer, NULL), S_OK);
    std::vector<Delivered> none;
    CHECK_HR(run_loop(client, to_client, to_server, none), S_OK);
    CHECK(none.empty());
    CHECK(to_server.bytes.size() == 2 + 4 + 11);
    CHECK(to_server.bytes[0] == 0x81 && to_server.bytes[1] == (0x80 | 11));

    CHECK_HR(WebSocketReceive(server.handle, NULL, NULL), S_OK);
    std::vector<Delivered> got;
    CHECK_HR(run_loop(server, to_server, to_client, got), S_OK);
    CHECK(got.size() == 1);
    if (got.size() == 1) {
        CHECK(got[0].type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE);
        CHECK(got[0].data == "Hello World");
    }
}

void sample_server_replies_and_pings() {
    static BYTE reply[] = "binary reply";
    WEB_SOCKET_BUFFER buffer;
    buffer.Data.pbBuffer = reply;
    buffer.Data.ulBufferLength = 12;
    CHECK_HR(WebSocketSend(server.handle, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &buffer, NULL), S_OK);
    CHECK_HR(WebSocketSend(server.handle, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    std::vector<Delivered> none;
    CHECK_HR(run_loop(server, to_server, to_client, none), S_OK);

    // The client receives the message; the ping is answered by a pong on its own.
    CHECK_HR(WebSocketReceive(client.handle, NULL, NULL), S_OK);
    std::vector<Delivered> got;
    CHECK_HR(run_loop(client, to_client, to_server, got), S_OK);
    CHECK(got.size() == 1 && got[0].type == WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE &&
          got[0].data == "binary reply");
    CHECK_HR(WebSocketReceive(client.handle, NULL, NULL), S_OK);
    got.clear();
    CHECK_HR(run_loop(client, to_client, to_server, got), S_OK);
    CHECK(got.empty() || got[0].type != WEB_SOCKET_PING_PONG_BUFFER_TYPE);
    // The pong reached the server.
    CHECK_HR(WebSocketReceive(server.handle, NULL, NULL), S_OK);
    got.clear();
    CHECK_HR(run_loop(server, to_server, to_client, got), S_OK);
    CHECK(got.size() == 1 && got[0].type == WEB_SOCKET_PING_PONG_BUFFER_TYPE && got[0].data.empty());
}

void sample_close_handshake() {
    // The client's receive queued above is still pending: it will get the close.
    static BYTE bye[] = "bye";
    WEB_SOCKET_BUFFER close;
    close.CloseStatus.pbReason = bye;
    close.CloseStatus.ulReasonLength = 3;
    close.CloseStatus.usStatus = WEB_SOCKET_SUCCESS_CLOSE_STATUS;
    CHECK_HR(WebSocketSend(server.handle, WEB_SOCKET_CLOSE_BUFFER_TYPE, &close, NULL), S_OK);
    std::vector<Delivered> got;
    CHECK_HR(run_loop(server, to_server, to_client, got), S_OK);
    CHECK_HR(run_loop(client, to_client, to_server, got), S_OK);
    CHECK(got.size() == 1 && got[0].type == WEB_SOCKET_CLOSE_BUFFER_TYPE && got[0].status == 1000 &&
          got[0].data == "bye");
    // The component does not answer a close itself: the application does.
    CHECK(to_server.bytes.empty());
    CHECK_HR(WebSocketReceive(client.handle, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    close.CloseStatus.pbReason = NULL;
    close.CloseStatus.ulReasonLength = 0;
    CHECK_HR(WebSocketSend(client.handle, WEB_SOCKET_CLOSE_BUFFER_TYPE, &close, NULL), S_OK);
    got.clear();
    CHECK_HR(run_loop(client, to_client, to_server, got), S_OK);
    CHECK_HR(WebSocketReceive(server.handle, NULL, NULL), S_OK);
    CHECK_HR(run_loop(server, to_server, to_client, got), S_OK);
    CHECK(got.size() == 1 && got[0].type == WEB_SOCKET_CLOSE_BUFFER_TYPE && got[0].status == 1000 &&
          got[0].data.empty());
    // Both closes exchanged: the session is closed.
    CHECK_HR(WebSocketReceive(server.handle, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketSend(server.handle, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
}

void sample_delete() {
    WebSocketDeleteHandle(client.handle);
    WebSocketDeleteHandle(server.handle);
}

} // namespace

int main() {
    RUN(sample_handshake);
    RUN(sample_client_sends_hello_world);
    RUN(sample_server_replies_and_pings);
    RUN(sample_close_handshake);
    RUN(sample_delete);
    return HARNESS_EXIT();
}
