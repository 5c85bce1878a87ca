/* A C client over a real loopback TCP socket, through the component's action loop, against
 * an echo server built on the engine (started by the Rust test, port in argv[1]). It does
 * the HTTP upgrade itself with the headers WebSocketBeginClientHandshake returns, checks
 * the response with WebSocketEndClientHandshake, exchanges messages (text, a large binary
 * message, a fragmented one, a ping), closes, and waits for the server to close TCP. */
#define _POSIX_C_SOURCE 200809L
#include <websocket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

/* The server's port, from the command line. */
static const char *harness_argv1 = "0";

typedef struct {
    int fd;
    WEB_SOCKET_HANDLE h;
    /* Bytes read with the HTTP response, after its head: the first WebSocket bytes. */
    unsigned char early[4096];
    size_t early_len, early_off;
    int receiving;
    /* The message being assembled, and the last complete one. */
    unsigned char *message;
    size_t message_len, message_cap;
    int messages, chunks, last_chunks;
    WEB_SOCKET_BUFFER_TYPE message_type;
    int pongs, closed;
    USHORT close_status;
} Conn;

static int write_all(int fd, const BYTE *data, ULONG len) {
    ULONG done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n <= 0) {
            return (int)done;
        }
        done += (ULONG)n;
    }
    return (int)done;
}

static ULONG read_some(Conn *c, BYTE *into, ULONG len) {
    ssize_t n;
    if (c->early_off < c->early_len) {
        size_t k = c->early_len - c->early_off;
        if (k > len) {
            k = len;
        }
        memcpy(into, c->early + c->early_off, k);
        c->early_off += k;
        return (ULONG)k;
    }
    n = recv(c->fd, into, len, 0);
    return n > 0 ? (ULONG)n : 0; /* 0: end of stream, error or timeout */
}

static void on_chunk(Conn *c, WEB_SOCKET_BUFFER_TYPE type, const BYTE *data, ULONG len) {
    if (c->message_len + len > c->message_cap) {
        c->message_cap = (c->message_len + len) * 2;
        c->message = (unsigned char *)realloc(c->message, c->message_cap);
    }
    if (len > 0) {
        memcpy(c->message + c->message_len, data, len);
    }
    c->message_len += len;
    c->chunks++;
    if (type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE || type == WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE) {
        c->messages++;
        c->message_type = type;
        c->last_chunks = c->chunks;
        c->chunks = 0;
    }
}

/* Runs the action loop (keeping one receive queued until the close arrives) until `done`
 * holds or nothing more can happen. */
static void run(Conn *c, int (*done)(const Conn *)) {
    int guard;
    for (guard = 0; guard < 1000000 && !done(c); guard++) {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0, i;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID ctx;
        HRESULT hr;
        if (!c->receiving && !c->closed) {
            CHECK_HR(WebSocketReceive(c->h, NULL, NULL), S_OK);
            c->receiving = 1;
        }
        hr = WebSocketGetAction(c->h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx);
        CHECK_HR(hr, S_OK);
        switch (action) {
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION:
            for (i = 0; i < count; i++) {
                n += (ULONG)write_all(c->fd, b[i].Data.pbBuffer, b[i].Data.ulBufferLength);
            }
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION:
            n = read_some(c, b[0].Data.pbBuffer, b[0].Data.ulBufferLength);
            break;
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION:
            c->receiving = 0;
            if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                c->closed = 1;
                c->close_status = b[0].CloseStatus.usStatus;
            } else if (type == WEB_SOCKET_PING_PONG_BUFFER_TYPE) {
                c->pongs++;
            } else {
                on_chunk(c, type, b[0].Data.pbBuffer, b[0].Data.ulBufferLength);
            }
            break;
        default:
            break;
        }
        WebSocketCompleteAction(c->h, ctx, n);
        if (FAILED(hr) || (action == WEB_SOCKET_NO_ACTION && (c->closed || c->receiving))) {
            if (!done(c)) {
                /* Nothing queued can make progress: fail rather than spin. */
                CHECK(!"stalled");
            }
            return;
        }
    }
}

static int want_messages;
static int has_messages(const Conn *c) { return c->messages >= want_messages; }
static int has_pong(const Conn *c) { return c->pongs >= 1; }
static int has_close(const Conn *c) { return c->closed; }

static void send_data(Conn *c, WEB_SOCKET_BUFFER_TYPE type, const void *data, ULONG len) {
    WEB_SOCKET_BUFFER b;
    b.Data.pbBuffer = (PBYTE)data;
    b.Data.ulBufferLength = len;
    CHECK_HR(WebSocketSend(c->h, type, &b, NULL), S_OK);
}

static Conn conn;

static void tcp_handshake(void) {
    int port = atoi(harness_argv1);
    struct sockaddr_in addr;
    struct timeval timeout = {20, 0};
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n, i;
    char request[2048], response[4096];
    size_t len = 0, head = 0;
    WEB_SOCKET_HTTP_HEADER headers[32];
    ULONG count = 0;
    char *line;
    ULONG props_value = 1024;
    WEB_SOCKET_PROPERTY prop;

    conn.fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(conn.fd, (struct sockaddr *)&addr, sizeof addr) == 0);

    /* A 1 KiB receive buffer, so that the large echo arrives in many chunks. */
    prop.Type = WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE;
    prop.pvValue = &props_value;
    prop.ulValueSize = sizeof props_value;
    CHECK_HR(WebSocketCreateClientHandle(&prop, 1, &conn.h), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(conn.h, NULL, 0, NULL, 0, NULL, 0, &h, &n), S_OK);
    len = (size_t)snprintf(request, sizeof request, "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", port);
    for (i = 0; i < n; i++) {
        len += (size_t)snprintf(request + len, sizeof request - len, "%.*s: %.*s\r\n", (int)h[i].ulNameLength,
                                h[i].pcName, (int)h[i].ulValueLength, h[i].pcValue);
    }
    len += (size_t)snprintf(request + len, sizeof request - len, "\r\n");
    CHECK(write_all(conn.fd, (const BYTE *)request, (ULONG)len) == (int)len);

    /* Read the response head. */
    len = 0;
    while (head == 0 && len < sizeof response - 1) {
        ssize_t got = recv(conn.fd, response + len, sizeof response - 1 - len, 0);
        char *end;
        if (got <= 0) {
            break;
        }
        len += (size_t)got;
        response[len] = 0;
        end = strstr(response, "\r\n\r\n");
        if (end != NULL) {
            head = (size_t)(end - response) + 4;
        }
    }
    CHECK(head > 0);
    CHECK(strncmp(response, "HTTP/1.1 101 ", 13) == 0);
    /* Bytes after the head already belong to the WebSocket stream. */
    memcpy(conn.early, response + head, len - head);
    conn.early_len = len - head;
    /* Parse "Name: value" lines, in place. */
    response[head - 4] = 0;
    line = strstr(response, "\r\n");
    while (line != NULL && count < 32) {
        char *next, *colon;
        line += 2;
        next = strstr(line, "\r\n");
        if (next != NULL) {
            *next = 0;
        }
        colon = strchr(line, ':');
        if (colon != NULL) {
            char *value = colon + 1;
            while (*value == ' ') {
                value++;
            }
            headers[count].pcName = line;
            headers[count].ulNameLength = (ULONG)(colon - line);
            headers[count].pcValue = value;
            headers[count].ulValueLength = (ULONG)strlen(value);
            count++;
        }
        line = next;
    }
    CHECK_HR(WebSocketEndClientHandshake(conn.h, headers, count, NULL, NULL, NULL), S_OK);
}

static void tcp_text_echo(void) {
    send_data(&conn, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, "Hello from C", 12);
    want_messages = 1;
    run(&conn, has_messages);
    CHECK(conn.messages == 1 && conn.message_type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE);
    CHECK(conn.message_len == 12 && memcmp(conn.message, "Hello from C", 12) == 0);
    conn.message_len = 0;
}

static void tcp_large_binary_echo(void) {
    static BYTE big[100000];
    size_t i;
    for (i = 0; i < sizeof big; i++) {
        big[i] = (BYTE)(i * 7);
    }
    send_data(&conn, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, big, sizeof big);
    want_messages = 2;
    run(&conn, has_messages);
    CHECK(conn.messages == 2 && conn.message_type == WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE);
    CHECK(conn.message_len == sizeof big && memcmp(conn.message, big, sizeof big) == 0);
    CHECK(conn.last_chunks >= (int)(sizeof big / 1024)); /* chunks of at most 1 KiB */
    conn.message_len = 0;
}

static void tcp_fragmented_echo(void) {
    send_data(&conn, WEB_SOCKET_UTF8_FRAGMENT_BUFFER_TYPE, "frag", 4);
    send_data(&conn, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, "mented", 6);
    want_messages = 3;
    run(&conn, has_messages);
    CHECK(conn.message_len == 10 && memcmp(conn.message, "fragmented", 10) == 0);
    conn.message_len = 0;
}

static void tcp_ping(void) {
    CHECK_HR(WebSocketSend(conn.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    run(&conn, has_pong);
    CHECK(conn.pongs == 1);
}

static void tcp_close(void) {
    WEB_SOCKET_BUFFER b;
    unsigned char sink[64];
    b.CloseStatus.pbReason = (PBYTE) "done";
    b.CloseStatus.ulReasonLength = 4;
    b.CloseStatus.usStatus = WEB_SOCKET_SUCCESS_CLOSE_STATUS;
    CHECK_HR(WebSocketSend(conn.h, WEB_SOCKET_CLOSE_BUFFER_TYPE, &b, NULL), S_OK);
    run(&conn, has_close);
    CHECK(conn.closed && conn.close_status == 1000);
    /* The server closes the TCP connection first. */
    CHECK(recv(conn.fd, sink, sizeof sink, 0) == 0);
    WebSocketDeleteHandle(conn.h);
    close(conn.fd);
    free(conn.message);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        harness_argv1 = argv[1];
    }
    RUN(tcp_handshake);
    RUN(tcp_text_echo);
    RUN(tcp_large_binary_echo);
    RUN(tcp_fragmented_echo);
    RUN(tcp_ping);
    RUN(tcp_close);
    return HARNESS_EXIT();
}
