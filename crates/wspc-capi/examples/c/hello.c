/* hello.c - a client handle and a server handle talk through memory: the opening
 * handshake, "Hello World" from the client, the answer, and the close handshake. */
#include <websocket.h>

#include <stdio.h>
#include <string.h>

/* The "network": bytes written by one side and not yet read by the other. */
typedef struct {
    BYTE data[4096];
    ULONG len;
} Wire;

/* Runs the action loop until NO_ACTION. Writes go to `out`, reads come from `in`;
 * completed receives are printed. Returns the first GetAction failure. */
static HRESULT run(WEB_SOCKET_HANDLE h, const char *who, Wire *in, Wire *out) {
    WEB_SOCKET_ACTION action;
    do {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0, i;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID ctx;
        HRESULT hr = WebSocketGetAction(h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx);
        if (FAILED(hr)) {
            WebSocketAbortHandle(h);
            return hr;
        }
        switch (action) {
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION: /* header, then payload */
            for (i = 0; i < count; i++) {
                memcpy(out->data + out->len, b[i].Data.pbBuffer, b[i].Data.ulBufferLength);
                out->len += b[i].Data.ulBufferLength;
                n += b[i].Data.ulBufferLength;
            }
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION: /* exactly one buffer */
            n = in->len < b[0].Data.ulBufferLength ? in->len : b[0].Data.ulBufferLength;
            memcpy(b[0].Data.pbBuffer, in->data, n);
            memmove(in->data, in->data + n, in->len - n);
            in->len -= n;
            break;
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION:
            if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                printf("%s: close %u\n", who, b[0].CloseStatus.usStatus);
            } else {
                printf("%s: %.*s\n", who, (int)b[0].Data.ulBufferLength, (const char *)b[0].Data.pbBuffer);
            }
            break;
        default: /* NO_ACTION, INDICATE_SEND_COMPLETE */
            break;
        }
        WebSocketCompleteAction(h, ctx, n);
    } while (action != WEB_SOCKET_NO_ACTION);
    return S_OK;
}

static HRESULT send_text(WEB_SOCKET_HANDLE h, const char *text) {
    WEB_SOCKET_BUFFER b;
    b.Data.pbBuffer = (PBYTE)text; /* must stay valid until the send completes */
    b.Data.ulBufferLength = (ULONG)strlen(text);
    return WebSocketSend(h, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, &b, NULL);
}

int main(void) {
    WEB_SOCKET_HANDLE client = NULL, server = NULL;
    PWEB_SOCKET_HTTP_HEADER request, response;
    ULONG request_count, response_count, i;
    WEB_SOCKET_HTTP_HEADER headers[8];
    static char host[] = "Host", localhost[] = "localhost";
    static Wire to_server, to_client;
    WEB_SOCKET_BUFFER close;
    HRESULT hr;

    /* Handshake: the client's headers (plus Host) make the request; the server's headers make
     * the 101 response. A real application writes them as HTTP. */
    if (FAILED(hr = WebSocketCreateClientHandle(NULL, 0, &client)) ||
        FAILED(hr = WebSocketCreateServerHandle(NULL, 0, &server)) ||
        FAILED(hr = WebSocketBeginClientHandshake(client, NULL, 0, NULL, 0, NULL, 0, &request, &request_count))) {
        goto done;
    }
    for (i = 0; i < request_count && i < 7; i++) {
        headers[i] = request[i];
    }
    headers[i].pcName = host;
    headers[i].ulNameLength = 4;
    headers[i].pcValue = localhost;
    headers[i].ulValueLength = 9;
    if (FAILED(hr = WebSocketBeginServerHandshake(server, NULL, NULL, 0, headers, i + 1, &response, &response_count)) ||
        FAILED(hr = WebSocketEndClientHandshake(client, response, response_count, NULL, NULL, NULL)) ||
        FAILED(hr = WebSocketEndServerHandshake(server))) {
        goto done;
    }

    /* Client -> server, then server -> client. */
    if (FAILED(hr = send_text(client, "Hello World")) || FAILED(hr = run(client, "client", &to_client, &to_server)) ||
        FAILED(hr = WebSocketReceive(server, NULL, NULL)) || FAILED(hr = run(server, "server", &to_server, &to_client)) ||
        FAILED(hr = send_text(server, "Hello yourself")) || FAILED(hr = run(server, "server", &to_server, &to_client)) ||
        FAILED(hr = WebSocketReceive(client, NULL, NULL)) || FAILED(hr = run(client, "client", &to_client, &to_server))) {
        goto done;
    }

    /* Close: the client starts it; the server answers with the same status itself (the
     * component never answers a Close on its own). */
    close.CloseStatus.pbReason = NULL;
    close.CloseStatus.ulReasonLength = 0;
    close.CloseStatus.usStatus = WEB_SOCKET_SUCCESS_CLOSE_STATUS;
    if (FAILED(hr = WebSocketSend(client, WEB_SOCKET_CLOSE_BUFFER_TYPE, &close, NULL)) ||
        FAILED(hr = run(client, "client", &to_client, &to_server)) ||
        FAILED(hr = WebSocketReceive(server, NULL, NULL)) || FAILED(hr = run(server, "server", &to_server, &to_client)) ||
        FAILED(hr = WebSocketSend(server, WEB_SOCKET_CLOSE_BUFFER_TYPE, &close, NULL)) ||
        FAILED(hr = run(server, "server", &to_server, &to_client)) ||
        FAILED(hr = WebSocketReceive(client, NULL, NULL)) || FAILED(hr = run(client, "client", &to_client, &to_server))) {
        goto done;
    }

done:
    WebSocketDeleteHandle(client);
    WebSocketDeleteHandle(server);
    if (FAILED(hr)) {
        printf("failed: 0x%08x\n", (unsigned)hr);
        return 1;
    }
    return 0;
}
