/* Calls on one handle from two threads at once, as .NET drives websocket.dll: each side has
 * a send thread (application messages and pings, on WEB_SOCKET_SEND_ACTION_QUEUE) and a
 * receive thread (reads, and the automatic Pongs, on WEB_SOCKET_RECEIVE_ACTION_QUEUE),
 * over a socketpair. The handle's internal lock serialises the calls; the component keeps
 * frames whole on the wire even though two threads write to the same socket. The client
 * closes after its messages; the server answers the Close after its own messages. */
#define _POSIX_C_SOURCE 200809L
#include <websocket.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "pair.h"

#define MESSAGES 200
#define MAX_LEN 9000
#define SPIN_LIMIT 10000000L

typedef struct {
    const char *name;
    int fd;
    WEB_SOCKET_HANDLE h;
    int initiates_close;
    /* Set by the receive thread when the peer's Close arrived. */
    volatile int close_received;
    int messages_received, pongs_received, bad_messages;
    USHORT close_status;
    int failures;
} Side;

static ULONG length_of(int i) { return (ULONG)((i * 977) % MAX_LEN); }

static void fill(BYTE *p, int i, ULONG len) {
    ULONG j;
    for (j = 0; j < len; j++) {
        p[j] = (BYTE)(i + j);
    }
}

static ULONG write_buffers(int fd, const WEB_SOCKET_BUFFER *b, ULONG count) {
    ULONG i, total = 0;
    for (i = 0; i < count; i++) {
        const BYTE *p = b[i].Data.pbBuffer;
        ULONG left = b[i].Data.ulBufferLength;
        while (left > 0) {
            ssize_t n = send(fd, p, left, MSG_NOSIGNAL);
            if (n <= 0) {
                return total;
            }
            p += n;
            left -= (ULONG)n;
            total += (ULONG)n;
        }
    }
    return total;
}

/* Runs the send queue until the current send is indicated complete. NO_ACTION while the
 * other thread's Pong is being written means "try again" (as .NET's loop does). */
static void finish_send(Side *s) {
    long spins;
    for (spins = 0; spins < SPIN_LIMIT; spins++) {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID ctx;
        HRESULT hr = WebSocketGetAction(s->h, WEB_SOCKET_SEND_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx);
        if (FAILED(hr)) {
            s->failures++;
            return;
        }
        if (action == WEB_SOCKET_NO_ACTION) {
            sched_yield();
            continue;
        }
        if (action == WEB_SOCKET_SEND_TO_NETWORK_ACTION) {
            n = write_buffers(s->fd, b, count);
        }
        WebSocketCompleteAction(s->h, ctx, n);
        if (action == WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION) {
            return;
        }
        if (action != WEB_SOCKET_SEND_TO_NETWORK_ACTION) {
            s->failures++; /* receive actions never come out of the send queue */
        }
    }
    s->failures++;
}

static void *send_thread(void *arg) {
    Side *s = (Side *)arg;
    static BYTE buffers[2][MAX_LEN];
    BYTE *mine = buffers[s->initiates_close ? 0 : 1];
    WEB_SOCKET_BUFFER b;
    long spins;
    int i;
    for (i = 0; i < MESSAGES; i++) {
        ULONG len = length_of(i);
        fill(mine, i, len);
        b.Data.pbBuffer = mine;
        b.Data.ulBufferLength = len;
        if (FAILED(WebSocketSend(s->h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL))) {
            s->failures++;
            return NULL;
        }
        finish_send(s);
        if (i % 10 == 0) {
            if (FAILED(WebSocketSend(s->h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL))) {
                s->failures++;
                return NULL;
            }
            finish_send(s);
        }
    }
    if (!s->initiates_close) {
        for (spins = 0; !s->close_received && spins < SPIN_LIMIT; spins++) {
            sched_yield();
        }
    }
    b.CloseStatus.pbReason = NULL;
    b.CloseStatus.ulReasonLength = 0;
    b.CloseStatus.usStatus = WEB_SOCKET_SUCCESS_CLOSE_STATUS;
    if (FAILED(WebSocketSend(s->h, WEB_SOCKET_CLOSE_BUFFER_TYPE, &b, NULL))) {
        s->failures++;
        return NULL;
    }
    finish_send(s);
    return NULL;
}

static void *receive_thread(void *arg) {
    Side *s = (Side *)arg;
    static BYTE assembled[2][MAX_LEN];
    BYTE *message = assembled[s->initiates_close ? 0 : 1];
    ULONG have = 0;
    long spins;
    if (FAILED(WebSocketReceive(s->h, NULL, NULL))) {
        s->failures++;
        return NULL;
    }
    for (spins = 0; spins < SPIN_LIMIT; spins++) {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID ctx;
        HRESULT hr = WebSocketGetAction(s->h, WEB_SOCKET_RECEIVE_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx);
        if (FAILED(hr)) {
            s->failures++;
            return NULL;
        }
        switch (action) {
        case WEB_SOCKET_NO_ACTION:
            sched_yield(); /* the send thread's frame is being written */
            continue;
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION: /* an automatic Pong */
            if (type != WEB_SOCKET_PING_PONG_BUFFER_TYPE) {
                s->failures++;
            }
            n = write_buffers(s->fd, b, count);
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION: {
            ssize_t got = recv(s->fd, b[0].Data.pbBuffer, b[0].Data.ulBufferLength, 0);
            n = got > 0 ? (ULONG)got : 0;
            break;
        }
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION:
            if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                s->close_status = b[0].CloseStatus.usStatus;
                WebSocketCompleteAction(s->h, ctx, 0);
                s->close_received = 1;
                return NULL;
            }
            if (type == WEB_SOCKET_PING_PONG_BUFFER_TYPE) {
                s->pongs_received++;
            } else if (have + b[0].Data.ulBufferLength <= MAX_LEN) {
                /* Zero-length data comes as a NULL pointer: memcpy must not see it. */
                if (b[0].Data.ulBufferLength > 0) {
                    memcpy(message + have, b[0].Data.pbBuffer, b[0].Data.ulBufferLength);
                }
                have += b[0].Data.ulBufferLength;
                if (type == WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE) {
                    BYTE expected[MAX_LEN];
                    int i = s->messages_received++;
                    fill(expected, i, length_of(i));
                    if (have != length_of(i) || memcmp(message, expected, have) != 0) {
                        s->bad_messages++;
                    }
                    have = 0;
                }
            } else {
                s->bad_messages++;
            }
            WebSocketCompleteAction(s->h, ctx, 0);
            if (FAILED(WebSocketReceive(s->h, NULL, NULL))) {
                s->failures++;
                return NULL;
            }
            continue;
        default:
            s->failures++;
            break;
        }
        WebSocketCompleteAction(s->h, ctx, n);
    }
    s->failures++;
    return NULL;
}


static void two_threads_per_handle(void) {
    int fds[2];
    Side sides[2];
    pthread_t threads[4];
    struct timeval timeout = {30, 0};
    ULONG small = 256;
    WEB_SOCKET_PROPERTY p;
    int i;
    memset(sides, 0, sizeof sides);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    /* Small receive buffers: messages arrive in many chunks. */
    p.Type = WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE;
    p.pvValue = &small;
    p.ulValueSize = sizeof small;
    sides[0].name = "client";
    sides[0].initiates_close = 1;
    sides[1].name = "server";
    CHECK_HR(WebSocketCreateClientHandle(&p, 1, &sides[0].h), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(&p, 1, &sides[1].h), S_OK);
    CHECK_HR(handshake(sides[0].h, sides[1].h), S_OK);
    for (i = 0; i < 2; i++) {
        sides[i].fd = fds[i];
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        CHECK(pthread_create(&threads[2 * i], NULL, send_thread, &sides[i]) == 0);
        CHECK(pthread_create(&threads[2 * i + 1], NULL, receive_thread, &sides[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
    }
    for (i = 0; i < 2; i++) {
        /* Every ping is answered; but the server stops reading at the client's Close, so the
         * Pongs the client still owed after sending its Close are not counted there. */
        int pongs_ok = i == 0 ? sides[i].pongs_received == (MESSAGES + 9) / 10
                              : sides[i].pongs_received <= (MESSAGES + 9) / 10;
        if (sides[i].failures || sides[i].messages_received != MESSAGES || sides[i].bad_messages || !pongs_ok ||
            sides[i].close_status != 1000) {
            fprintf(stderr, "%s: failures %d, messages %d (bad %d), pongs %d, close %u\n", sides[i].name,
                    sides[i].failures, sides[i].messages_received, sides[i].bad_messages, sides[i].pongs_received,
                    sides[i].close_status);
        }
        CHECK(sides[i].failures == 0);
        CHECK(sides[i].messages_received == MESSAGES && sides[i].bad_messages == 0);
        CHECK(pongs_ok);
        CHECK(sides[i].close_status == 1000);
        WebSocketDeleteHandle(sides[i].h);
        close(fds[i]);
    }
}

int main(void) {
    RUN(two_threads_per_handle);
    return HARNESS_EXIT();
}
