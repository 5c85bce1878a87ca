/*
 * echo_server.c - a WebSocket echo server in C on libwebsocket (the Windows WebSocket
 * Protocol Component API), over blocking TCP sockets, a thread per connection. It echoes
 * every text and binary message back (chunk by chunk, as the component delivers them),
 * answers a Close with the same status, and closes TCP first. This is the server the
 * Autobahn TestSuite (fuzzingclient) expects.
 *
 *   cc -O2 -I crates/wspc-capi/include crates/wspc-capi/examples/c/echo_server.c \
 *      -L target/release -lwebsocket -lpthread -Wl,-rpath,$PWD/target/release -o echo_server
 *   ./echo_server [ADDR:PORT] [--once] [--deflate]
 *
 *   ADDR:PORT  where to listen (default 127.0.0.1:9001)
 *   --once     serve one connection, then exit
 *   --deflate  set WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE (a wspc extension): accept a
 *              client's permessage-deflate offer (with a 64 KiB send buffer, so that
 *              compressed echoes leave in large pieces)
 *
 * Prints "listening on ws://ADDR:PORT" once the socket is bound (PORT 0 picks a free port).
 * Only loopback and local addresses are sensible: there is no TLS and no authentication.
 */
#define _POSIX_C_SOURCE 200809L
#include <websocket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_HEAD 16384
#define MAX_HEADERS 64

/* One connection: its socket and the WebSocket bytes that arrived with the request. */
typedef struct {
    int fd;
    char head[MAX_HEAD + 1];
    size_t early_off, early_len; /* bytes of `head` after the request head */
} Connection;

static int verbose;
static BOOL deflate; /* --deflate */

static void set_timeout(int fd, int seconds) {
    struct timeval tv;
    tv.tv_sec = seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the buffers of a SEND_TO_NETWORK action; returns the bytes written. */
static ULONG write_buffers(int fd, const WEB_SOCKET_BUFFER *b, ULONG count) {
    struct iovec iov[2];
    ULONG i, total = 0, done = 0;
    for (i = 0; i < count && i < 2; i++) {
        iov[i].iov_base = b[i].Data.pbBuffer;
        iov[i].iov_len = b[i].Data.ulBufferLength;
        total += b[i].Data.ulBufferLength;
    }
    while (done < total) {
        struct msghdr msg;
        struct iovec rest[2];
        ULONG skip = done, n = 0, k;
        ssize_t sent;
        for (k = 0; k < count && k < 2; k++) {
            if (skip >= iov[k].iov_len) {
                skip -= (ULONG)iov[k].iov_len;
                continue;
            }
            rest[n].iov_base = (char *)iov[k].iov_base + skip;
            rest[n].iov_len = iov[k].iov_len - skip;
            skip = 0;
            n++;
        }
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = rest;
        msg.msg_iovlen = n;
        sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (sent <= 0) {
            break;
        }
        done += (ULONG)sent;
    }
    return done;
}

/* Reads once into `into`: first the bytes that came with the request. 0 = end. */
static ULONG read_once(Connection *c, BYTE *into, ULONG len) {
    ssize_t n;
    if (c->early_off < c->early_len) {
        size_t k = c->early_len - c->early_off;
        if (k > len) {
            k = len;
        }
        memcpy(into, c->head + c->early_off, k);
        c->early_off += k;
        return (ULONG)k;
    }
    do {
        n = recv(c->fd, into, len, 0);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? (ULONG)n : 0;
}

static void respond(int fd, const char *status) {
    char text[256];
    int n = snprintf(text, sizeof text,
                     "HTTP/1.1 %s\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
                     status);
    write_all(fd, text, (size_t)n);
}

/* Reads the HTTP request and answers the upgrade. Returns the server handle, or NULL. */
static WEB_SOCKET_HANDLE accept_upgrade(Connection *c) {
    WEB_SOCKET_HTTP_HEADER headers[MAX_HEADERS];
    ULONG count = 0, n, i;
    PWEB_SOCKET_HTTP_HEADER response;
    size_t len = 0, head_len = 0;
    char *line, *end;
    char reply[4096];
    int used;
    WEB_SOCKET_HANDLE h = NULL;
    ULONG receive_size = 65536, send_size = 65536;
    WEB_SOCKET_PROPERTY properties[3];
    ULONG property_count = 1;
    HRESULT hr;

    while (head_len == 0 && len < MAX_HEAD) {
        ssize_t got = recv(c->fd, c->head + len, MAX_HEAD - len, 0);
        if (got <= 0) {
            return NULL;
        }
        len += (size_t)got;
        c->head[len] = 0;
        end = strstr(c->head, "\r\n\r\n");
        if (end != NULL) {
            head_len = (size_t)(end - c->head) + 4;
        }
    }
    if (head_len == 0) {
        respond(c->fd, "431 Request Header Fields Too Large");
        return NULL;
    }
    c->early_off = head_len;
    c->early_len = len;
    c->head[head_len - 2] = 0;
    if (strncmp(c->head, "GET ", 4) != 0) {
        respond(c->fd, "405 Method Not Allowed");
        return NULL;
    }
    /* Every header line after the request line, as the component wants them all. */
    line = strstr(c->head, "\r\n");
    while (line != NULL && count < MAX_HEADERS) {
        char *colon, *value, *tail;
        line += 2;
        end = strstr(line, "\r\n");
        if (end != NULL) {
            *end = 0;
        }
        colon = strchr(line, ':');
        if (colon != NULL) {
            value = colon + 1;
            while (*value == ' ' || *value == '\t') {
                value++;
            }
            tail = value + strlen(value);
            while (tail > value && (tail[-1] == ' ' || tail[-1] == '\t')) {
                *--tail = 0;
            }
            headers[count].pcName = line;
            headers[count].ulNameLength = (ULONG)(colon - line);
            headers[count].pcValue = value;
            headers[count].ulValueLength = (ULONG)(tail - value);
            count++;
        }
        line = end;
    }

    properties[0].Type = WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE;
    properties[0].pvValue = &receive_size;
    properties[0].ulValueSize = sizeof receive_size;
    if (deflate) {
        properties[1].Type = WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE;
        properties[1].pvValue = &deflate;
        properties[1].ulValueSize = sizeof deflate;
        properties[2].Type = WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE;
        properties[2].pvValue = &send_size;
        properties[2].ulValueSize = sizeof send_size;
        property_count = 3;
    }
    if (FAILED(WebSocketCreateServerHandle(properties, property_count, &h))) {
        respond(c->fd, "500 Internal Server Error");
        return NULL;
    }
    hr = WebSocketBeginServerHandshake(h, NULL, NULL, 0, headers, count, &response, &n);
    if (FAILED(hr)) {
        respond(c->fd, hr == E_PROTOCOL_VERSION_NOT_SUPPORTED ? "426 Upgrade Required" : "400 Bad Request");
        WebSocketDeleteHandle(h);
        return NULL;
    }
    used = snprintf(reply, sizeof reply, "HTTP/1.1 101 Switching Protocols\r\n");
    for (i = 0; i < n && used < (int)sizeof reply; i++) {
        used += snprintf(reply + used, sizeof reply - (size_t)used, "%.*s: %.*s\r\n", (int)response[i].ulNameLength,
                         response[i].pcName, (int)response[i].ulValueLength, response[i].pcValue);
    }
    used += snprintf(reply + used, sizeof reply - (size_t)used, "\r\n");
    if (write_all(c->fd, reply, (size_t)used) != 0 || FAILED(WebSocketEndServerHandshake(h))) {
        WebSocketDeleteHandle(h);
        return NULL;
    }
    return h;
}

/* Queues the echo of one received chunk: a copy (the chunk is only valid until the
 * action is completed), freed when the send completes. */
static void echo(WEB_SOCKET_HANDLE h, WEB_SOCKET_BUFFER_TYPE type, const WEB_SOCKET_BUFFER *chunk) {
    WEB_SOCKET_BUFFER b;
    ULONG len = chunk->Data.ulBufferLength;
    BYTE *copy = len > 0 ? (BYTE *)malloc(len) : NULL;
    if (len > 0 && copy == NULL) {
        return;
    }
    if (copy != NULL) {
        memcpy(copy, chunk->Data.pbBuffer, len);
    }
    b.Data.pbBuffer = copy;
    b.Data.ulBufferLength = len;
    if (FAILED(WebSocketSend(h, type, &b, copy))) {
        free(copy); /* e.g. our Close already went out */
    }
}

/* Answers the peer's Close with the same status (a status-less Close with another). */
static void reply_close(WEB_SOCKET_HANDLE h, USHORT status) {
    WEB_SOCKET_BUFFER b;
    if (status == WEB_SOCKET_EMPTY_CLOSE_STATUS) {
        WebSocketSend(h, WEB_SOCKET_CLOSE_BUFFER_TYPE, NULL, NULL);
        return;
    }
    b.CloseStatus.pbReason = NULL;
    b.CloseStatus.ulReasonLength = 0;
    b.CloseStatus.usStatus = status;
    WebSocketSend(h, WEB_SOCKET_CLOSE_BUFFER_TYPE, &b, NULL);
}

/* Completes whatever is still queued (after abort) and frees the echo copies. */
static void drain(WEB_SOCKET_HANDLE h) {
    int guard;
    for (guard = 0; guard < 100000; guard++) {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID app, ctx;
        if (FAILED(WebSocketGetAction(h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx)) ||
            action == WEB_SOCKET_NO_ACTION) {
            return;
        }
        if (action == WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION) {
            free(app);
        }
        WebSocketCompleteAction(h, ctx, 0);
    }
}

static void serve(Connection *c) {
    WEB_SOCKET_HANDLE h;
    int receiving = 0, input_done = 0, failed = 0, guard;
    char sink[4096];
    int one = 1;

    set_timeout(c->fd, 60);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h = accept_upgrade(c);
    if (h == NULL) {
        close(c->fd);
        return;
    }
    for (guard = 0; guard < 100000000; guard++) {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID app, ctx;
        HRESULT hr;

        /* Keep one receive queued until the input ends. */
        if (!receiving && !input_done) {
            if (FAILED(WebSocketReceive(h, NULL, NULL))) {
                input_done = 1;
            } else {
                receiving = 1;
            }
        }
        hr = WebSocketGetAction(h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx);
        if (FAILED(hr)) {
            /* A protocol error. The component queued a Close with the right status (1002,
             * 1007): the next actions write it. Seeing the error again means all is out. */
            if (verbose) {
                fprintf(stderr, "echo_server: GetAction failed: 0x%08x\n", (unsigned)hr);
            }
            if (failed) {
                break;
            }
            failed = 1;
            continue;
        }
        switch (action) {
        case WEB_SOCKET_NO_ACTION:
            break;
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION:
            n = write_buffers(c->fd, b, count);
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION:
            n = read_once(c, b[0].Data.pbBuffer, b[0].Data.ulBufferLength);
            break;
        case WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION:
            free(app);
            break;
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION:
            receiving = 0;
            if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                input_done = 1;
                if (b[0].CloseStatus.usStatus != WEB_SOCKET_ABORTED_CLOSE_STATUS) {
                    reply_close(h, b[0].CloseStatus.usStatus);
                }
            } else if (type != WEB_SOCKET_PING_PONG_BUFFER_TYPE) {
                echo(h, type, &b[0]);
            }
            break;
        default:
            break;
        }
        WebSocketCompleteAction(h, ctx, n);
        if (action == WEB_SOCKET_NO_ACTION) {
            break; /* the input ended and everything queued was written */
        }
    }
    WebSocketAbortHandle(h);
    drain(h);
    WebSocketDeleteHandle(h);
    /* The server closes TCP first: FIN, then wait briefly for the peer's (no RST). */
    shutdown(c->fd, SHUT_WR);
    set_timeout(c->fd, 2);
    while (recv(c->fd, sink, sizeof sink, 0) > 0) {
    }
    close(c->fd);
}

static void *connection_thread(void *arg) {
    Connection *c = (Connection *)arg;
    serve(c);
    free(c);
    return NULL;
}

int main(int argc, char **argv) {
    const char *where = "127.0.0.1:9001";
    char host[64];
    const char *colon;
    int once = 0, listener, one = 1, i;
    struct sockaddr_in addr;
    socklen_t addr_len = sizeof addr;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0) {
            once = 1;
        } else if (strcmp(argv[i], "--deflate") == 0) {
            deflate = TRUE;
        } else {
            where = argv[i];
        }
    }
    verbose = getenv("WSPC_ECHO_VERBOSE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    colon = strrchr(where, ':');
    if (colon == NULL || (size_t)(colon - where) >= sizeof host) {
        fprintf(stderr, "usage: %s [ADDR:PORT] [--once] [--deflate]\n", argv[0]);
        return 2;
    }
    memcpy(host, where, (size_t)(colon - where));
    host[colon - where] = 0;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "echo_server: bad address %s\n", host);
        return 2;
    }
    listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 64) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0) {
        perror("echo_server");
        return 1;
    }
    printf("listening on ws://%s:%d\n", host, ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        Connection *c;
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("echo_server: accept");
            return 1;
        }
        c = (Connection *)calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        if (once) {
            serve(c);
            free(c);
            close(listener);
            return 0;
        } else {
            pthread_t thread;
            if (pthread_create(&thread, NULL, connection_thread, c) != 0) {
                close(fd);
                free(c);
                continue;
            }
            pthread_detach(thread);
        }
    }
}
