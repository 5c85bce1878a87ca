/* The reference's §15 checklist at the C ABI: properties, global properties, handshake
 * arrays and outputs, action outputs, misuse HRESULTs, the allocated buffer, abort and
 * delete. Each test is named s15_NN_... after the checklist item it covers (decisions this
 * library took are pinned here too). Run under valgrind by the test suite. */
#define _POSIX_C_SOURCE 200112L
#include <websocket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pair.h"

/* ------------------------------------------------------------------------------------ */
/* An in-memory transport and an action loop (a read with nothing to read is parked until
 * the other side writes, as an asynchronous read would be). */

typedef struct {
    unsigned char *data;
    size_t len, cap;
} Pipe;

static void pipe_write(Pipe *p, const BYTE *data, ULONG n) {
    if (p->len + n > p->cap) {
        p->cap = (p->len + n) * 2 + 1024;
        p->data = (unsigned char *)realloc(p->data, p->cap);
    }
    memcpy(p->data + p->len, data, n);
    p->len += n;
}

static ULONG pipe_read(Pipe *p, BYTE *out, ULONG max) {
    ULONG n = p->len < max ? (ULONG)p->len : max;
    memcpy(out, p->data, n);
    memmove(p->data, p->data + n, p->len - n);
    p->len -= n;
    return n;
}

typedef struct {
    WEB_SOCKET_BUFFER_TYPE type;
    unsigned char data[256];
    ULONG len;
    USHORT status;
    PVOID app_context;
    const BYTE *pointer;
} Delivered;

typedef struct {
    WEB_SOCKET_HANDLE h;
    PVOID parked;
    BYTE *parked_buffer;
    ULONG parked_length;
    Delivered got[64];
    int count;
    int sends_completed;
    /* When set, every buffer GetAction hands out must lie in [lo, hi) (or in the
     * application's own payload [app_lo, app_hi)), and be no longer than max_len. */
    const BYTE *lo, *hi, *app_lo, *app_hi;
    ULONG max_len;
    int out_of_range;
} Peer;

static int in_range(const Peer *p, const BYTE *b, ULONG len) {
    if (b == NULL || p->lo == NULL) {
        return 1;
    }
    if (b >= p->app_lo && b + len <= p->app_hi) {
        return 1;
    }
    return b >= p->lo && b + len <= p->hi && len <= p->max_len;
}

static HRESULT run(Peer *p, Pipe *in, Pipe *out) {
    HRESULT result = S_OK;
    WEB_SOCKET_ACTION action;
    int guard = 0;
    if (p->parked != NULL && in->len > 0) {
        ULONG n = pipe_read(in, p->parked_buffer, p->parked_length);
        WebSocketCompleteAction(p->h, p->parked, n);
        p->parked = NULL;
    }
    do {
        WEB_SOCKET_BUFFER b[2];
        ULONG count = 2, n = 0, i;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID app = NULL, ctx;
        HRESULT hr = WebSocketGetAction(p->h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx);
        if (FAILED(hr)) {
            result = hr;
            break;
        }
        for (i = 0; i < count; i++) {
            if (!in_range(p, b[i].Data.pbBuffer, b[i].Data.ulBufferLength)) {
                p->out_of_range++;
            }
        }
        switch (action) {
        case WEB_SOCKET_SEND_TO_NETWORK_ACTION:
            for (i = 0; i < count; i++) {
                pipe_write(out, b[i].Data.pbBuffer, b[i].Data.ulBufferLength);
                n += b[i].Data.ulBufferLength;
            }
            break;
        case WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION:
            if (in->len == 0) {
                p->parked = ctx;
                p->parked_buffer = b[0].Data.pbBuffer;
                p->parked_length = b[0].Data.ulBufferLength;
                continue;
            }
            n = pipe_read(in, b[0].Data.pbBuffer, b[0].Data.ulBufferLength);
            break;
        case WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION:
            if (p->count < 64) {
                Delivered *d = &p->got[p->count++];
                const BYTE *src = b[0].Data.pbBuffer;
                d->type = type;
                d->len = b[0].Data.ulBufferLength;
                d->status = 0;
                if (type == WEB_SOCKET_CLOSE_BUFFER_TYPE) {
                    src = b[0].CloseStatus.pbReason;
                    d->len = b[0].CloseStatus.ulReasonLength;
                    d->status = b[0].CloseStatus.usStatus;
                }
                d->pointer = src;
                d->app_context = app;
                if (src != NULL) {
                    memcpy(d->data, src, d->len < sizeof d->data ? d->len : sizeof d->data);
                }
            }
            break;
        case WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION:
            p->sends_completed++;
            break;
        default:
            break;
        }
        WebSocketCompleteAction(p->h, ctx, n);
    } while (action != WEB_SOCKET_NO_ACTION && ++guard < 100000);
    return result;
}

static char *dup_range(const char *s, ULONG n) {
    char *out = (char *)malloc(n + 1);
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

/* Finds header `name` in an array; returns its index or -1. */
static int find_header(const WEB_SOCKET_HTTP_HEADER *h, ULONG count, const char *name) {
    ULONG i;
    for (i = 0; i < count; i++) {
        if (h[i].ulNameLength == strlen(name) && memcmp(h[i].pcName, name, h[i].ulNameLength) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int header_is(const WEB_SOCKET_HTTP_HEADER *h, ULONG count, const char *name, const char *value) {
    int i = find_header(h, count, name);
    return i >= 0 && h[i].ulValueLength == strlen(value) && memcmp(h[i].pcValue, value, strlen(value)) == 0;
}

static char s_host[] = "Host", s_localhost[] = "localhost";


static void pair(Peer *c, Peer *s) {
    memset(c, 0, sizeof *c);
    memset(s, 0, sizeof *s);
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c->h), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s->h), S_OK);
    CHECK_HR(handshake(c->h, s->h), S_OK);
}

static void unpair(Peer *c, Peer *s, Pipe *a, Pipe *b) {
    WebSocketDeleteHandle(c->h);
    WebSocketDeleteHandle(s->h);
    free(a->data);
    free(b->data);
}

static WEB_SOCKET_PROPERTY ulong_property(WEB_SOCKET_PROPERTY_TYPE type, ULONG *value) {
    WEB_SOCKET_PROPERTY p;
    p.Type = type;
    p.pvValue = value;
    p.ulValueSize = sizeof *value;
    return p;
}

/* ------------------------------------------------------------------------------------ */
/* Handles and properties */

static void s15_01_create_without_properties(void) {
    WEB_SOCKET_HANDLE c = NULL, s = NULL;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK(c != NULL && s != NULL && c != s);
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
}

static void s15_02_null_handle_pointer(void) {
    /* Decision: E_INVALIDARG (not E_POINTER). */
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, NULL), E_INVALIDARG);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, NULL), E_INVALIDARG);
}

static void s15_03_null_properties_with_a_count(void) {
    WEB_SOCKET_HANDLE h = (WEB_SOCKET_HANDLE)&h;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 1, &h), E_INVALIDARG);
    CHECK(h == NULL);
    h = (WEB_SOCKET_HANDLE)&h;
    CHECK_HR(WebSocketCreateServerHandle(NULL, 2, &h), E_INVALIDARG);
    CHECK(h == NULL);
}

static ULONG first_read_length(WEB_SOCKET_HANDLE s) {
    WEB_SOCKET_BUFFER b[2];
    ULONG count = 2, len = 0;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID ctx;
    CHECK_HR(WebSocketReceive(s, NULL, NULL), S_OK);
    CHECK_HR(WebSocketGetAction(s, WEB_SOCKET_RECEIVE_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION);
    CHECK(count == 1); /* s15_75: exactly one buffer */
    if (action == WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION) {
        len = b[0].Data.ulBufferLength;
    }
    WebSocketCompleteAction(s, ctx, 0);
    return len;
}

static void s15_04_receive_buffer_size(void) {
    ULONG sizes[] = {256, 255, 65536, 65537};
    HRESULT expected[] = {S_OK, E_INVALIDARG, S_OK, E_INVALIDARG};
    int i;
    WEB_SOCKET_HANDLE c, s;
    for (i = 0; i < 4; i++) {
        WEB_SOCKET_PROPERTY p = ulong_property(WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE, &sizes[i]);
        WEB_SOCKET_HANDLE h = NULL;
        CHECK_HR(WebSocketCreateServerHandle(&p, 1, &h), expected[i]);
        CHECK((h != NULL) == (expected[i] == S_OK));
        WebSocketDeleteHandle(h);
    }
    /* The default (4096) and a set size, observed as the largest buffer offered to read. */
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(handshake(c, s), S_OK);
    CHECK(first_read_length(s) == 4096);
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
    {
        WEB_SOCKET_PROPERTY p = ulong_property(WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE, &sizes[0]);
        CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
        CHECK_HR(WebSocketCreateServerHandle(&p, 1, &s), S_OK);
        CHECK_HR(handshake(c, s), S_OK);
        CHECK(first_read_length(s) == 256);
        WebSocketDeleteHandle(c);
        WebSocketDeleteHandle(s);
    }
}

static void s15_05_send_buffer_size(void) {
    ULONG sizes[] = {16, 15, 65536, 65537};
    HRESULT expected[] = {S_OK, E_INVALIDARG, S_OK, E_INVALIDARG};
    int i;
    for (i = 0; i < 4; i++) {
        WEB_SOCKET_PROPERTY p = ulong_property(WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE, &sizes[i]);
        WEB_SOCKET_HANDLE h = NULL;
        CHECK_HR(WebSocketCreateServerHandle(&p, 1, &h), expected[i]);
        WebSocketDeleteHandle(h);
        h = NULL;
        CHECK_HR(WebSocketCreateClientHandle(&p, 1, &h), expected[i]);
        WebSocketDeleteHandle(h);
    }
}

static void s15_06_bad_property_size_or_type(void) {
    ULONG value = 4096;
    WEB_SOCKET_PROPERTY p = ulong_property(WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE, &value);
    WEB_SOCKET_PROPERTY twice[2];
    WEB_SOCKET_HANDLE h = NULL;
    p.ulValueSize = 2;
    CHECK_HR(WebSocketCreateClientHandle(&p, 1, &h), E_INVALIDARG);
    p.ulValueSize = 8;
    CHECK_HR(WebSocketCreateClientHandle(&p, 1, &h), E_INVALIDARG);
    p.ulValueSize = 4;
    p.pvValue = NULL;
    CHECK_HR(WebSocketCreateClientHandle(&p, 1, &h), E_INVALIDARG);
    p.pvValue = &value;
    p.Type = (WEB_SOCKET_PROPERTY_TYPE)7;
    CHECK_HR(WebSocketCreateClientHandle(&p, 1, &h), E_INVALIDARG);
    p.Type = WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE;
    CHECK_HR(WebSocketCreateServerHandle(&p, 1, &h), E_INVALIDARG);
    p.Type = WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE;
    CHECK_HR(WebSocketCreateServerHandle(&p, 1, &h), E_INVALIDARG);
    /* BOOL properties are 4 bytes too. */
    p.Type = WEB_SOCKET_DISABLE_MASKING_PROPERTY_TYPE;
    p.ulValueSize = 1;
    CHECK_HR(WebSocketCreateServerHandle(&p, 1, &h), E_INVALIDARG);
    /* Decision: a property given twice is rejected. */
    twice[0] = ulong_property(WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE, &value);
    twice[1] = twice[0];
    CHECK_HR(WebSocketCreateServerHandle(twice, 2, &h), E_INVALIDARG);
    CHECK(h == NULL);
}

/* An application-allocated buffer, as .NET passes it: `pvValue` points at a slot holding
 * the buffer's address; `ulValueSize` is the buffer's length (receive + send + 144). */
typedef struct {
    BYTE *buffer;
    ULONG length;
    ULONG recv, send;
    PVOID slot;
    WEB_SOCKET_PROPERTY props[3];
} Allocated;

static void allocated_init(Allocated *a, ULONG recv, ULONG send, size_t misalign, ULONG shortfall) {
    void *mem = NULL;
    a->recv = recv;
    a->send = send;
    a->length = recv + send + 144 - shortfall;
    if (posix_memalign(&mem, 16, a->length + 16) != 0) {
        mem = NULL;
    }
    a->buffer = (BYTE *)mem;
    a->slot = a->buffer + misalign;
    a->props[0] = ulong_property(WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE, &a->recv);
    a->props[1] = ulong_property(WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE, &a->send);
    a->props[2].Type = WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE;
    a->props[2].pvValue = &a->slot;
    a->props[2].ulValueSize = a->length;
}

static void s15_07_allocated_buffer_holds_every_returned_pointer(void) {
    Allocated ca, sa;
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static BYTE big[5000], text[] = "through the allocated buffers";
    WEB_SOCKET_BUFFER b;
    int i;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    allocated_init(&ca, 4096, 4096, 0, 0);
    allocated_init(&sa, 4096, 16, 0, 0);
    CHECK_HR(WebSocketCreateClientHandle(ca.props, 3, &c.h), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(sa.props, 3, &s.h), S_OK);
    CHECK_HR(handshake(c.h, s.h), S_OK);
    c.lo = ca.buffer;
    c.hi = ca.buffer + ca.length;
    c.max_len = 4096;
    s.lo = sa.buffer;
    s.hi = sa.buffer + sa.length;
    s.max_len = 4096;
    for (i = 0; i < (int)sizeof big; i++) {
        big[i] = (BYTE)i;
    }

    /* Client to server: a masked message larger than the send buffer, a ping. */
    b.Data.pbBuffer = big;
    b.Data.ulBufferLength = sizeof big;
    c.app_lo = big;
    c.app_hi = big + sizeof big;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    CHECK(c.sends_completed == 2);
    for (i = 0; i < 10 && (s.count == 0 || s.got[s.count - 1].type != WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE); i++) {
        CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
        CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    }
    {
        ULONG total = 0;
        for (i = 0; i < s.count; i++) {
            total += s.got[i].len;
            CHECK(s.got[i].pointer >= sa.buffer && s.got[i].pointer + s.got[i].len <= sa.buffer + sa.recv);
        }
        CHECK(s.count >= 2 && total == sizeof big);
    }
    /* One more receive reads the ping and answers it (the receive then waits). */
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    CHECK(s.parked != NULL);
    /* Server to client: the pong the client's ping asked for (written above), a zero-copy
     * payload (the application's own memory), a close with a reason. */
    b.Data.pbBuffer = text;
    b.Data.ulBufferLength = sizeof text - 1;
    s.app_lo = text;
    s.app_hi = text + sizeof text;
    CHECK_HR(WebSocketSend(s.h, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    b.CloseStatus.pbReason = text;
    b.CloseStatus.ulReasonLength = 7;
    b.CloseStatus.usStatus = 1000;
    CHECK_HR(WebSocketSend(s.h, WEB_SOCKET_CLOSE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    c.count = 0;
    for (i = 0; i < 4 && (c.count == 0 || c.got[c.count - 1].type != WEB_SOCKET_CLOSE_BUFFER_TYPE); i++) {
        CHECK_HR(WebSocketReceive(c.h, NULL, NULL), S_OK);
        CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    }
    CHECK(c.count == 3);
    CHECK(c.got[0].type == WEB_SOCKET_PING_PONG_BUFFER_TYPE);
    CHECK(c.got[1].type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE && c.got[1].len == sizeof text - 1);
    CHECK(c.got[2].type == WEB_SOCKET_CLOSE_BUFFER_TYPE && c.got[2].status == 1000 && c.got[2].len == 7);
    CHECK(c.got[2].pointer >= ca.buffer && c.got[2].pointer < ca.buffer + ca.length);
    CHECK(c.out_of_range == 0);
    CHECK(s.out_of_range == 0);
    unpair(&c, &s, &to_s, &to_c);
    free(ca.buffer);
    free(sa.buffer);
}

static void s15_08_allocated_buffer_misaligned_or_small(void) {
    Allocated a;
    WEB_SOCKET_HANDLE h = NULL;
    allocated_init(&a, 4096, 16, 1, 0);
    CHECK_HR(WebSocketCreateServerHandle(a.props, 3, &h), E_INVALIDARG);
    free(a.buffer);
    allocated_init(&a, 4096, 16, 0, 1);
    CHECK_HR(WebSocketCreateServerHandle(a.props, 3, &h), E_INVALIDARG);
    a.props[2].ulValueSize = a.length + 1;
    CHECK_HR(WebSocketCreateServerHandle(a.props, 3, &h), S_OK);
    WebSocketDeleteHandle(h);
    a.slot = NULL;
    CHECK_HR(WebSocketCreateServerHandle(a.props, 3, &h), E_INVALIDARG);
    a.props[2].pvValue = NULL;
    CHECK_HR(WebSocketCreateServerHandle(a.props, 3, &h), E_INVALIDARG);
    CHECK(h == NULL);
    free(a.buffer);
}

static void s15_12_keepalive_interval(void) {
    ULONG value = 0, size = 4;
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE, &value, &size), S_OK);
    CHECK(value == 30000 && size == 4);
    /* Decision: too small a size fails with HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)
     * and reports the size needed. */
    size = 0;
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE, &value, &size),
             HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    CHECK(size == 4);
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE, &value, NULL), E_INVALIDARG);
    size = 4;
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE, NULL, &size), E_INVALIDARG);
}

static void s15_13_supported_versions(void) {
    ULONG versions[4] = {0, 0, 0, 0}, size = sizeof versions;
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE, versions, &size), S_OK);
    CHECK(size == 4 && versions[0] == 13);
}

static void s15_14_global_property_of_a_handle_type(void) {
    ULONG value = 0, size = 4;
    int t;
    for (t = 0; t <= 4; t++) {
        CHECK_HR(WebSocketGetGlobalProperty((WEB_SOCKET_PROPERTY_TYPE)t, &value, &size), E_INVALIDARG);
    }
    CHECK_HR(WebSocketGetGlobalProperty((WEB_SOCKET_PROPERTY_TYPE)99, &value, &size), E_INVALIDARG);
}

/* ------------------------------------------------------------------------------------ */
/* Handshakes */

static void s15_15_begin_client_headers(void) {
    WEB_SOCKET_HANDLE c;
    PWEB_SOCKET_HTTP_HEADER h = NULL;
    ULONG n = 0, i;
    const char *names[] = {"Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"};
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, &h, &n), S_OK);
    CHECK(n == 4);
    for (i = 0; i < n && i < 4; i++) {
        CHECK(h[i].ulNameLength == strlen(names[i]) && strcmp(h[i].pcName, names[i]) == 0);
        /* Strings are NUL-terminated; lengths exclude the NUL. */
        CHECK(strlen(h[i].pcName) == h[i].ulNameLength && strlen(h[i].pcValue) == h[i].ulValueLength);
    }
    CHECK(header_is(h, n, "Connection", "Upgrade"));
    CHECK(header_is(h, n, "Upgrade", "websocket"));
    CHECK(header_is(h, n, "Sec-WebSocket-Version", "13"));
    CHECK(h[2].ulValueLength == 24);
    WebSocketDeleteHandle(c);
}

static void s15_18_handshake_calls_in_the_wrong_role_or_state(void) {
    WEB_SOCKET_HANDLE c, s;
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    /* Decision: E_INVALID_PROTOCOL_OPERATION for every role or state error. */
    CHECK_HR(WebSocketEndClientHandshake(c, NULL, 0, NULL, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketBeginClientHandshake(s, NULL, 0, NULL, 0, NULL, 0, &h, &n), E_INVALID_PROTOCOL_OPERATION);
    CHECK(h == NULL && n == 0);
    CHECK_HR(WebSocketBeginServerHandshake(c, NULL, NULL, 0, NULL, 0, &h, &n), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketEndServerHandshake(c), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketEndServerHandshake(s), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, &h, &n), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, &h, &n), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, NULL, &n), E_INVALIDARG);
    CHECK_HR(handshake(c, s), E_INVALID_PROTOCOL_OPERATION); /* Begin again on c */
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
}

static char s_chat[] = "chat", s_proto[] = "Sec-WebSocket-Protocol";

/* Client offers {"chat","superchat"} and extensions {"x-a","x-b; p"}; the server selects
 * `proto` and `exts`; returns End's result with its outputs. */
static HRESULT negotiate(const char *proto, PCSTR *exts, ULONG ext_count, ULONG *selected, ULONG *selected_count,
                         ULONG *sub) {
    WEB_SOCKET_HANDLE c, s;
    PWEB_SOCKET_HTTP_HEADER ch, sh;
    ULONG cn, sn;
    PCSTR protos[] = {"chat", "superchat"};
    PCSTR offers[] = {"x-a", "x-b; p"};
    WEB_SOCKET_HTTP_HEADER request[16];
    HRESULT hr;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(c, protos, 2, offers, 2, NULL, 0, &ch, &cn), S_OK);
    CHECK(header_is(ch, cn, "Sec-WebSocket-Protocol", "chat, superchat"));
    CHECK(header_is(ch, cn, "Sec-WebSocket-Extensions", "x-a, x-b; p"));
    memcpy(request, ch, cn * sizeof *ch);
    request[cn].pcName = s_host;
    request[cn].ulNameLength = 4;
    request[cn].pcValue = s_localhost;
    request[cn].ulValueLength = 9;
    CHECK_HR(WebSocketBeginServerHandshake(s, proto, exts, ext_count, request, cn + 1, &sh, &sn), S_OK);
    hr = WebSocketEndClientHandshake(c, sh, sn, selected, selected_count, sub);
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
    return hr;
}

static void s15_22_selected_subprotocol_index(void) {
    ULONG sub = 99;
    CHECK_HR(negotiate("superchat", NULL, 0, NULL, NULL, &sub), S_OK);
    CHECK(sub == 1);
    sub = 99;
    CHECK_HR(negotiate(NULL, NULL, 0, NULL, NULL, &sub), S_OK);
    CHECK(sub == 99); /* decision: untouched when the server selected none */
    CHECK_HR(negotiate("other", NULL, 0, NULL, NULL, &sub), E_SUBPROTOCOL_NOT_SUPPORTED);
}

static void s15_23_selected_extension_indices(void) {
    PCSTR both[] = {"x-b", "x-a"};
    PCSTR unknown[] = {"x-c"};
    ULONG selected[4] = {9, 9, 9, 9}, count = 4;
    CHECK_HR(negotiate(NULL, both, 2, selected, &count, NULL), S_OK);
    CHECK(count == 2 && selected[0] == 1 && selected[1] == 0);
    count = 1;
    CHECK_HR(negotiate(NULL, both, 2, selected, &count, NULL), HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    count = 4;
    CHECK_HR(negotiate(NULL, unknown, 1, selected, &count, NULL), E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED);
    count = 4;
    CHECK_HR(negotiate(NULL, both, 2, NULL, &count, NULL), E_INVALIDARG);
    count = 4;
    CHECK_HR(negotiate(NULL, NULL, 0, selected, &count, NULL), S_OK);
    CHECK(count == 0);
}

static void s15_24_end_client_with_null_outputs(void) {
    CHECK_HR(negotiate(s_chat, NULL, 0, NULL, NULL, NULL), S_OK);
}

/* Request headers from name/value string pairs. */
static ULONG make_headers(WEB_SOCKET_HTTP_HEADER *out, const char *const *pairs, ULONG n) {
    ULONG i;
    for (i = 0; i < n; i++) {
        out[i].pcName = (PCHAR)pairs[2 * i];
        out[i].ulNameLength = (ULONG)strlen(pairs[2 * i]);
        out[i].pcValue = (PCHAR)pairs[2 * i + 1];
        out[i].ulValueLength = (ULONG)strlen(pairs[2 * i + 1]);
    }
    return n;
}

static const char *const rfc_request[] = {
    "Host", "server.example.com", "Upgrade", "websocket", "Connection", "Upgrade",
    "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Origin", "http://example.com",
    "Sec-WebSocket-Version", "13",
};

static void s15_26_begin_server_rfc_example(void) {
    WEB_SOCKET_HANDLE s;
    WEB_SOCKET_HTTP_HEADER req[8];
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    ULONG count = make_headers(req, rfc_request, 6);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, req, count, &h, &n), S_OK);
    CHECK(n == 3);
    CHECK(header_is(h, n, "Connection", "Upgrade"));
    CHECK(header_is(h, n, "Upgrade", "websocket"));
    CHECK(header_is(h, n, "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    CHECK(find_header(h, n, "Sec-WebSocket-Protocol") < 0);
    CHECK_HR(WebSocketEndServerHandshake(s), S_OK);
    CHECK_HR(WebSocketEndServerHandshake(s), E_INVALID_PROTOCOL_OPERATION);
    WebSocketDeleteHandle(s);
}

static void s15_27_dotnet_fake_server_request(void) {
    static const char *const fake[] = {"Connection", "Upgrade", "Upgrade", "websocket", "Host", "",
                                       "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key",
                                       "AAAAAAAAAAAAAAAAAAAAAA=="};
    WEB_SOCKET_HANDLE s;
    WEB_SOCKET_HTTP_HEADER req[8];
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    ULONG count = make_headers(req, fake, 5);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, req, count, &h, &n), S_OK);
    CHECK_HR(WebSocketEndServerHandshake(s), S_OK);
    WebSocketDeleteHandle(s);
}

static HRESULT begin_server_with(const char *const *pairs, ULONG count) {
    WEB_SOCKET_HANDLE s;
    WEB_SOCKET_HTTP_HEADER req[8];
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    HRESULT hr;
    make_headers(req, pairs, count);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    hr = WebSocketBeginServerHandshake(s, NULL, NULL, 0, req, count, &h, &n);
    WebSocketDeleteHandle(s);
    return hr;
}

static void s15_28_bad_server_requests(void) {
    const char *r[12];
    memcpy(r, rfc_request, sizeof r);
    /* Missing key: drop the pair at index 3 by replacing it with the last one. */
    r[6] = rfc_request[10];
    r[7] = rfc_request[11];
    CHECK_HR(begin_server_with(r, 5), E_INVALID_PROTOCOL_FORMAT);
    /* Missing version. */
    CHECK_HR(begin_server_with(rfc_request, 5), E_INVALID_PROTOCOL_FORMAT);
    /* Decision: a version other than 13 is E_PROTOCOL_VERSION_NOT_SUPPORTED. */
    memcpy(r, rfc_request, sizeof r);
    r[11] = "8";
    CHECK_HR(begin_server_with(r, 6), E_PROTOCOL_VERSION_NOT_SUPPORTED);
    /* Missing Upgrade (renamed). */
    memcpy(r, rfc_request, sizeof r);
    r[2] = "X-Upgrade";
    CHECK_HR(begin_server_with(r, 6), E_INVALID_PROTOCOL_FORMAT);
    memcpy(r, rfc_request, sizeof r);
    r[3] = "h2c";
    CHECK_HR(begin_server_with(r, 6), E_INVALID_PROTOCOL_FORMAT);
    /* Missing Host. */
    memcpy(r, rfc_request, sizeof r);
    r[0] = "X-Host";
    CHECK_HR(begin_server_with(r, 6), E_INVALID_PROTOCOL_FORMAT);
    /* A key that is not 16 bytes of base64. */
    memcpy(r, rfc_request, sizeof r);
    r[7] = "c2hvcnQ=";
    CHECK_HR(begin_server_with(r, 6), E_INVALID_PROTOCOL_FORMAT);
    /* A header name with a colon. */
    memcpy(r, rfc_request, sizeof r);
    r[8] = "Origin:";
    CHECK_HR(begin_server_with(r, 6), E_INVALID_PROTOCOL_FORMAT);
    {
        WEB_SOCKET_HANDLE s;
        PWEB_SOCKET_HTTP_HEADER h;
        ULONG n;
        WEB_SOCKET_HTTP_HEADER req[8];
        CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
        CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, NULL, 3, &h, &n), E_INVALIDARG);
        /* A failed Begin can be retried. */
        make_headers(req, rfc_request, 6);
        CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, req, 6, &h, &n), S_OK);
        WebSocketDeleteHandle(s);
    }
}

static void s15_29_server_selected_subprotocol_and_extensions(void) {
    WEB_SOCKET_HANDLE s;
    WEB_SOCKET_HTTP_HEADER req[8];
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    PCSTR exts[] = {"x-a", "x-b; p=1"};
    make_headers(req, rfc_request, 6);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginServerHandshake(s, "chat", exts, 2, req, 6, &h, &n), S_OK);
    CHECK(n == 5);
    CHECK(header_is(h, n, s_proto, "chat"));
    CHECK(header_is(h, n, "Sec-WebSocket-Extensions", "x-a, x-b; p=1"));
    WebSocketDeleteHandle(s);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginServerHandshake(s, "not a token", NULL, 0, req, 6, &h, &n), E_INVALIDARG);
    WebSocketDeleteHandle(s);
}

static void s15_30_end_server_is_optional(void) {
    WEB_SOCKET_HANDLE s;
    WEB_SOCKET_HTTP_HEADER req[8];
    PWEB_SOCKET_HTTP_HEADER h;
    ULONG n;
    static BYTE msg[] = "hi";
    WEB_SOCKET_BUFFER b;
    make_headers(req, rfc_request, 6);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, req, 6, &h, &n), S_OK);
    b.Data.pbBuffer = msg;
    b.Data.ulBufferLength = 2;
    CHECK_HR(WebSocketSend(s, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(WebSocketReceive(s, NULL, NULL), S_OK);
    /* End after the data phase started is still fine, once. */
    CHECK_HR(WebSocketEndServerHandshake(s), S_OK);
    WebSocketDeleteHandle(s);
}

static void s15_31_header_arrays_stay_valid_until_end(void) {
    WEB_SOCKET_HANDLE c, s, other;
    PWEB_SOCKET_HTTP_HEADER ch, sh;
    ULONG cn, sn, size = 4, value;
    WEB_SOCKET_HTTP_HEADER request[8];
    char *key, *accept;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, &ch, &cn), S_OK);
    key = dup_range(ch[2].pcValue, ch[2].ulValueLength);
    memcpy(request, ch, cn * sizeof *ch);
    request[cn].pcName = s_host;
    request[cn].ulNameLength = 4;
    request[cn].pcValue = s_localhost;
    request[cn].ulValueLength = 9;
    CHECK_HR(WebSocketBeginServerHandshake(s, NULL, NULL, 0, request, cn + 1, &sh, &sn), S_OK);
    accept = dup_range(sh[2].pcValue, sh[2].ulValueLength);
    /* Other calls, on this and other handles, leave both arrays intact. */
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &other), S_OK);
    CHECK_HR(WebSocketBeginClientHandshake(other, NULL, 0, NULL, 0, NULL, 0, &ch, &cn), S_OK);
    WebSocketDeleteHandle(other);
    CHECK_HR(WebSocketGetGlobalProperty(WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE, &value, &size), S_OK);
    CHECK(strcmp(sh[2].pcValue, accept) == 0);
    CHECK_HR(WebSocketEndClientHandshake(c, sh, sn, NULL, NULL, NULL), S_OK);
    /* The server's array is still valid after the client's End (the sample reads it). */
    CHECK(strcmp(sh[2].pcName, "Sec-WebSocket-Accept") == 0 && strcmp(sh[2].pcValue, accept) == 0);
    CHECK_HR(WebSocketEndServerHandshake(s), S_OK);
    free(key);
    free(accept);
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
}

/* ------------------------------------------------------------------------------------ */
/* Data path and actions */

static void preset(WEB_SOCKET_BUFFER *b, ULONG *count, WEB_SOCKET_ACTION *action, WEB_SOCKET_BUFFER_TYPE *type,
                   PVOID *app, PVOID *ctx) {
    memset(b, 0xAB, 2 * sizeof *b);
    *count = 2;
    *action = (WEB_SOCKET_ACTION)77;
    *type = WEB_SOCKET_CLOSE_BUFFER_TYPE;
    *app = (PVOID)b;
    *ctx = (PVOID)b;
}

static void s15_32_session_functions_before_the_handshake(void) {
    WEB_SOCKET_HANDLE c;
    WEB_SOCKET_BUFFER b[2];
    ULONG count;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID app, ctx;
    static BYTE x[] = "x";
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    b[0].Data.pbBuffer = x;
    b[0].Data.ulBufferLength = 1;
    CHECK_HR(WebSocketSend(c, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, b, NULL), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketReceive(c, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    preset(b, &count, &action, &type, &app, &ctx);
    CHECK_HR(WebSocketGetAction(c, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx),
             E_INVALID_PROTOCOL_OPERATION);
    CHECK(action == WEB_SOCKET_NO_ACTION && count == 0 && ctx == NULL && app == NULL);
    WebSocketCompleteAction(c, ctx, 0);
    WebSocketDeleteHandle(c);
}

static void s15_33_client_send_hello_world(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    static BYTE hello[] = "Hello World";
    WEB_SOCKET_BUFFER b[2];
    ULONG count = 2, total = 0, i;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID app, ctx;
    pair(&c, &s);
    b[0].Data.pbBuffer = hello;
    b[0].Data.ulBufferLength = 11;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, b, (PVOID)0x1234), S_OK);
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_SEND_TO_NETWORK_ACTION && count >= 1 && count <= 2);
    CHECK(type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE && app == (PVOID)0x1234 && ctx != NULL);
    CHECK(b[0].Data.ulBufferLength == 6 && b[0].Data.pbBuffer[0] == 0x81 && b[0].Data.pbBuffer[1] == (0x80 | 11));
    for (i = 0; i < count; i++) {
        total += b[i].Data.ulBufferLength;
    }
    CHECK(total == 17);
    if (count == 2) {
        /* The payload is the masked text (masked copies are engine memory). */
        for (i = 0; i < 11; i++) {
            CHECK((BYTE)(b[1].Data.pbBuffer[i] ^ b[0].Data.pbBuffer[2 + i % 4]) == hello[i]);
        }
        CHECK(b[1].Data.pbBuffer != hello);
    }
    WebSocketCompleteAction(c.h, ctx, total);
    count = 2;
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION && app == (PVOID)0x1234 && count == 0);
    WebSocketCompleteAction(c.h, ctx, 0);
    count = 2;
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_NO_ACTION);
    unpair(&c, &s, &a, &z);
}

static void s15_34_server_receives_hello_world(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static BYTE hello[] = "Hello World";
    WEB_SOCKET_BUFFER b;
    pair(&c, &s);
    b.Data.pbBuffer = hello;
    b.Data.ulBufferLength = 11;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    CHECK_HR(WebSocketReceive(s.h, NULL, (PVOID)0x55), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    CHECK(s.count == 1 && s.got[0].type == WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE && s.got[0].len == 11 &&
          memcmp(s.got[0].data, "Hello World", 11) == 0 && s.got[0].app_context == (PVOID)0x55);
    CHECK(s.parked == NULL); /* nothing more was asked for */
    unpair(&c, &s, &to_s, &to_c);
}

static void s15_42_buffer_array_too_small(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    static BYTE data[] = "abc";
    WEB_SOCKET_BUFFER b[2];
    ULONG count;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID app, ctx;
    pair(&c, &s);
    b[0].Data.pbBuffer = data;
    b[0].Data.ulBufferLength = 3;
    CHECK_HR(WebSocketSend(s.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, b, NULL), S_OK);
    /* Decision: no room (0) for an action that needs a buffer fails with
     * HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER); nothing is dequeued. */
    count = 0;
    CHECK_HR(WebSocketGetAction(s.h, WEB_SOCKET_ALL_ACTION_QUEUE, NULL, &count, &action, &type, &app, &ctx),
             HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    CHECK(action == WEB_SOCKET_NO_ACTION && count == 0 && ctx == NULL);
    count = 2;
    CHECK_HR(WebSocketGetAction(s.h, WEB_SOCKET_ALL_ACTION_QUEUE, NULL, &count, &action, &type, &app, &ctx),
             E_INVALIDARG);
    /* Decision: room for one buffer splits header and payload into two actions. */
    count = 1;
    CHECK_HR(WebSocketGetAction(s.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_SEND_TO_NETWORK_ACTION && count == 1 && b[0].Data.ulBufferLength == 2);
    WebSocketCompleteAction(s.h, ctx, 2);
    count = 1;
    CHECK_HR(WebSocketGetAction(s.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_SEND_TO_NETWORK_ACTION && count == 1 && b[0].Data.ulBufferLength == 3);
    /* Zero copy: a server's payload is the application's own buffer. */
    CHECK(b[0].Data.pbBuffer == data);
    WebSocketCompleteAction(s.h, ctx, 3);
    /* INDICATE_SEND_COMPLETE needs no buffer. */
    count = 0;
    CHECK_HR(WebSocketGetAction(s.h, WEB_SOCKET_ALL_ACTION_QUEUE, NULL, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION && count == 0);
    WebSocketCompleteAction(s.h, ctx, 0);
    unpair(&c, &s, &a, &z);
}

static void s15_44_application_context(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static BYTE data[] = "ctx";
    WEB_SOCKET_BUFFER b[2];
    ULONG count = 2;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID ctx;
    pair(&c, &s);
    b[0].Data.pbBuffer = data;
    b[0].Data.ulBufferLength = 3;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, b, (PVOID)0xC0FFEE), S_OK);
    /* A NULL pvApplicationContext is accepted. */
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_SEND_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_SEND_TO_NETWORK_ACTION);
    WebSocketCompleteAction(c.h, ctx, b[0].Data.ulBufferLength + (count == 2 ? b[1].Data.ulBufferLength : 0));
    CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    CHECK(c.sends_completed == 1);
    unpair(&c, &s, &to_s, &to_c);
}

static void s15_45_complete_after_no_action(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    WEB_SOCKET_BUFFER b[2];
    ULONG count = 2;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID ctx = (PVOID)&count;
    pair(&c, &s);
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, NULL, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_NO_ACTION && ctx == NULL);
    WebSocketCompleteAction(c.h, ctx, 0);
    WebSocketCompleteAction(c.h, (PVOID)0x777, 5); /* a stale context */
    WebSocketCompleteAction(NULL, NULL, 0);
    unpair(&c, &s, &a, &z);
}

static void s15_49_ping_and_pong_take_no_buffer(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    static BYTE data[] = "x";
    WEB_SOCKET_BUFFER b;
    pair(&c, &s);
    b.Data.pbBuffer = data;
    b.Data.ulBufferLength = 1;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, &b, NULL), E_INVALIDARG);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_UNSOLICITED_PONG_BUFFER_TYPE, &b, NULL), E_INVALIDARG);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_UNSOLICITED_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(run(&c, &z, &a), S_OK);
    CHECK(a.len == 12 && a.data[0] == 0x89 && a.data[1] == 0x80 && a.data[6] == 0x8A && a.data[7] == 0x80);
    /* Data types need a buffer; unknown types are rejected. */
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, NULL, NULL), E_INVALIDARG);
    b.Data.pbBuffer = NULL;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), E_INVALIDARG);
    b.Data.pbBuffer = data;
    CHECK_HR(WebSocketSend(c.h, (WEB_SOCKET_BUFFER_TYPE)0, &b, NULL), E_INVALIDARG);
    CHECK_HR(WebSocketSend(c.h, (WEB_SOCKET_BUFFER_TYPE)0x80000007u, &b, NULL), E_INVALIDARG);
    /* An empty message may name no memory. */
    b.Data.pbBuffer = NULL;
    b.Data.ulBufferLength = 0;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    unpair(&c, &s, &a, &z);
}

static HRESULT send_close(WEB_SOCKET_HANDLE h, USHORT status, const char *reason, ULONG len) {
    WEB_SOCKET_BUFFER b;
    b.CloseStatus.pbReason = (PBYTE)reason;
    b.CloseStatus.ulReasonLength = len;
    b.CloseStatus.usStatus = status;
    return WebSocketSend(h, WEB_SOCKET_CLOSE_BUFFER_TYPE, &b, NULL);
}

static void s15_53_close_with_a_null_buffer(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    pair(&c, &s);
    CHECK_HR(WebSocketSend(s.h, WEB_SOCKET_CLOSE_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(run(&s, &z, &a), S_OK);
    CHECK(a.len == 2 && a.data[0] == 0x88 && a.data[1] == 0x00);
    unpair(&c, &s, &a, &z);
}

static void s15_54_close_reason_length(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    char reason[125];
    memset(reason, 'r', sizeof reason);
    pair(&c, &s);
    CHECK_HR(send_close(c.h, 1000, reason, 124), E_INVALIDARG);
    CHECK_HR(send_close(c.h, 1000, NULL, 3), E_INVALIDARG);
    CHECK_HR(send_close(c.h, 1000, reason, 123), S_OK);
    CHECK_HR(run(&c, &z, &a), S_OK);
    CHECK(a.len == 2 + 4 + 125);
    unpair(&c, &s, &a, &z);
}

static void s15_55_unsendable_statuses(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    USHORT bad[] = {1006, 1015, 999, 1004, 0, 2999, 5000};
    int i;
    pair(&c, &s);
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        CHECK_HR(send_close(c.h, bad[i], NULL, 0), E_INVALIDARG);
    }
    CHECK_HR(send_close(c.h, 1005, "why", 3), E_INVALIDARG);
    CHECK_HR(send_close(c.h, 1000, "\xff", 1), E_INVALIDARG);
    unpair(&c, &s, &a, &z);
}

static void s15_56_received_empty_close(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    pair(&c, &s);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_CLOSE_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    CHECK(s.count == 1 && s.got[0].type == WEB_SOCKET_CLOSE_BUFFER_TYPE && s.got[0].status == 1005 &&
          s.got[0].len == 0 && s.got[0].pointer == NULL);
    unpair(&c, &s, &to_s, &to_c);
}

static void receive_into_application_buffer(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static BYTE text[] = "0123456789";
    BYTE mine[4];
    WEB_SOCKET_BUFFER b;
    pair(&c, &s);
    b.Data.pbBuffer = text;
    b.Data.ulBufferLength = 10;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(run(&c, &to_c, &to_s), S_OK);
    b.Data.pbBuffer = mine;
    b.Data.ulBufferLength = sizeof mine;
    CHECK_HR(WebSocketReceive(s.h, &b, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK);
    CHECK(s.count == 1 && s.got[0].pointer == mine && s.got[0].len == 4 &&
          s.got[0].type == WEB_SOCKET_UTF8_FRAGMENT_BUFFER_TYPE && memcmp(mine, "0123", 4) == 0);
    b.Data.pbBuffer = NULL;
    CHECK_HR(WebSocketReceive(s.h, &b, NULL), E_INVALIDARG);
    b.Data.pbBuffer = mine;
    b.Data.ulBufferLength = 0;
    CHECK_HR(WebSocketReceive(s.h, &b, NULL), E_INVALIDARG);
    unpair(&c, &s, &to_s, &to_c);
}

static void misuse_is_rejected(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    int not_a_handle[16] = {0};
    WEB_SOCKET_BUFFER b[2];
    ULONG count = 2;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID ctx;
    pair(&c, &s);
    /* Unknown queues. */
    CHECK_HR(WebSocketGetAction(c.h, (WEB_SOCKET_ACTION_QUEUE)0, b, &count, &action, &type, NULL, &ctx), E_INVALIDARG);
    count = 2;
    CHECK_HR(WebSocketGetAction(c.h, (WEB_SOCKET_ACTION_QUEUE)4, b, &count, &action, &type, NULL, &ctx), E_INVALIDARG);
    /* Required outputs. */
    count = 2;
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, NULL, &type, NULL, &ctx), E_INVALIDARG);
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, NULL, NULL), E_INVALIDARG);
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, NULL, &action, &type, NULL, &ctx), E_INVALIDARG);
    /* Something that is not a handle is detected (its signature does not match). */
    CHECK_HR(WebSocketReceive((WEB_SOCKET_HANDLE)not_a_handle, NULL, NULL), E_INVALIDARG);
    WebSocketAbortHandle((WEB_SOCKET_HANDLE)not_a_handle);
    WebSocketDeleteHandle((WEB_SOCKET_HANDLE)not_a_handle);
    unpair(&c, &s, &a, &z);
}

/* ------------------------------------------------------------------------------------ */
/* Abort and delete */

static int drain(WEB_SOCKET_HANDLE h, WEB_SOCKET_ACTION_QUEUE queue) {
    int n = 0;
    for (;;) {
        WEB_SOCKET_BUFFER b[1];
        ULONG count = 1;
        WEB_SOCKET_ACTION action;
        WEB_SOCKET_BUFFER_TYPE type;
        PVOID ctx;
        HRESULT hr = WebSocketGetAction(h, queue, b, &count, &action, &type, NULL, &ctx);
        CHECK_HR(hr, S_OK);
        if (FAILED(hr) || action == WEB_SOCKET_NO_ACTION || n > 100) {
            return n;
        }
        CHECK(action == WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION || action == WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION);
        n++;
        WebSocketCompleteAction(h, ctx, 0);
    }
}

static void s15_67_abort_before_the_handshake(void) {
    WEB_SOCKET_HANDLE c, s;
    CHECK_HR(WebSocketCreateClientHandle(NULL, 0, &c), S_OK);
    CHECK_HR(WebSocketCreateServerHandle(NULL, 0, &s), S_OK);
    WebSocketAbortHandle(c);
    WebSocketAbortHandle(s);
    CHECK_HR(handshake(c, s), S_OK);
    CHECK_HR(WebSocketReceive(s, NULL, NULL), S_OK);
    WebSocketDeleteHandle(c);
    WebSocketDeleteHandle(s);
}

static void s15_68_abort_then_drain(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    static BYTE data[] = "pending";
    WEB_SOCKET_BUFFER b;
    pair(&c, &s);
    b.Data.pbBuffer = data;
    b.Data.ulBufferLength = 7;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), S_OK);
    CHECK_HR(WebSocketReceive(c.h, NULL, NULL), S_OK);
    WebSocketAbortHandle(c.h);
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_PING_PONG_BUFFER_TYPE, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    CHECK_HR(WebSocketReceive(c.h, NULL, NULL), E_INVALID_PROTOCOL_OPERATION);
    CHECK(drain(c.h, WEB_SOCKET_SEND_ACTION_QUEUE) == 2);
    CHECK(drain(c.h, WEB_SOCKET_RECEIVE_ACTION_QUEUE) == 1);
    CHECK(drain(c.h, WEB_SOCKET_ALL_ACTION_QUEUE) == 0);
    unpair(&c, &s, &a, &z);
}

static void s15_66_abort_after_a_protocol_error(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static const BYTE reserved_opcode[] = {0x83, 0x80, 1, 2, 3, 4};
    pair(&c, &s);
    pipe_write(&to_s, reserved_opcode, sizeof reserved_opcode);
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), E_INVALID_PROTOCOL_FORMAT);
    /* The sample's reaction: abort and keep draining. */
    WebSocketAbortHandle(s.h);
    CHECK(drain(s.h, WEB_SOCKET_SEND_ACTION_QUEUE) == 0);
    CHECK(drain(s.h, WEB_SOCKET_RECEIVE_ACTION_QUEUE) == 2);
    CHECK(to_c.len == 0);
    unpair(&c, &s, &to_s, &to_c);
}

static void s15_69_delete_after_abort_and_delete_null(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    pair(&c, &s);
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    WebSocketAbortHandle(s.h);
    CHECK(drain(s.h, WEB_SOCKET_RECEIVE_ACTION_QUEUE) == 1);
    WebSocketDeleteHandle(NULL);
    unpair(&c, &s, &to_s, &to_c); /* valgrind checks that everything was freed */
}

static void s15_73_outputs_are_set_on_no_action_and_on_failure(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    WEB_SOCKET_BUFFER b[2];
    ULONG count;
    WEB_SOCKET_ACTION action;
    WEB_SOCKET_BUFFER_TYPE type;
    PVOID app, ctx;
    pair(&c, &s);
    preset(b, &count, &action, &type, &app, &ctx);
    CHECK_HR(WebSocketGetAction(c.h, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx), S_OK);
    CHECK(action == WEB_SOCKET_NO_ACTION && count == 0 && ctx == NULL && app == NULL && (unsigned)type == 0);
    preset(b, &count, &action, &type, &app, &ctx);
    CHECK_HR(WebSocketGetAction(NULL, WEB_SOCKET_ALL_ACTION_QUEUE, b, &count, &action, &type, &app, &ctx),
             E_INVALIDARG);
    CHECK(action == WEB_SOCKET_NO_ACTION && count == 0 && ctx == NULL && app == NULL);
    WebSocketCompleteAction(c.h, ctx, count);
    unpair(&c, &s, &a, &z);
}

static void s15_74_complete_with_null_context(void) {
    Peer c, s;
    Pipe a = {0, 0, 0}, z = {0, 0, 0};
    pair(&c, &s);
    WebSocketCompleteAction(c.h, NULL, 0);
    WebSocketCompleteAction(s.h, NULL, 12);
    unpair(&c, &s, &a, &z);
}

static void s15_77_delete_without_closing(void) {
    Peer c, s;
    Pipe to_s = {0, 0, 0}, to_c = {0, 0, 0};
    static BYTE data[] = "never sent";
    WEB_SOCKET_BUFFER b;
    pair(&c, &s);
    b.Data.pbBuffer = data;
    b.Data.ulBufferLength = 10;
    CHECK_HR(WebSocketSend(c.h, WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE, &b, NULL), S_OK);
    CHECK_HR(WebSocketReceive(c.h, NULL, NULL), S_OK);
    CHECK_HR(WebSocketReceive(s.h, NULL, NULL), S_OK);
    CHECK_HR(run(&s, &to_s, &to_c), S_OK); /* a read is parked */
    unpair(&c, &s, &to_s, &to_c);
}

int main(void) {
    RUN(s15_01_create_without_properties);
    RUN(s15_02_null_handle_pointer);
    RUN(s15_03_null_properties_with_a_count);
    RUN(s15_04_receive_buffer_size);
    RUN(s15_05_send_buffer_size);
    RUN(s15_06_bad_property_size_or_type);
    RUN(s15_07_allocated_buffer_holds_every_returned_pointer);
    RUN(s15_08_allocated_buffer_misaligned_or_small);
    RUN(s15_12_keepalive_interval);
    RUN(s15_13_supported_versions);
    RUN(s15_14_global_property_of_a_handle_type);
    RUN(s15_15_begin_client_headers);
    RUN(s15_18_handshake_calls_in_the_wrong_role_or_state);
    RUN(s15_22_selected_subprotocol_index);
    RUN(s15_23_selected_extension_indices);
    RUN(s15_24_end_client_with_null_outputs);
    RUN(s15_26_begin_server_rfc_example);
    RUN(s15_27_dotnet_fake_server_request);
    RUN(s15_28_bad_server_requests);
    RUN(s15_29_server_selected_subprotocol_and_extensions);
    RUN(s15_30_end_server_is_optional);
    RUN(s15_31_header_arrays_stay_valid_until_end);
    RUN(s15_32_session_functions_before_the_handshake);
    RUN(s15_33_client_send_hello_world);
    RUN(s15_34_server_receives_hello_world);
    RUN(s15_42_buffer_array_too_small);
    RUN(s15_44_application_context);
    RUN(s15_45_complete_after_no_action);
    RUN(s15_49_ping_and_pong_take_no_buffer);
    RUN(s15_53_close_with_a_null_buffer);
    RUN(s15_54_close_reason_length);
    RUN(s15_55_unsendable_statuses);
    RUN(s15_56_received_empty_close);
    RUN(receive_into_application_buffer);
    RUN(misuse_is_rejected);
    RUN(s15_66_abort_after_a_protocol_error);
    RUN(s15_67_abort_before_the_handshake);
    RUN(s15_68_abort_then_drain);
    RUN(s15_69_delete_after_abort_and_delete_null);
    RUN(s15_73_outputs_are_set_on_no_action_and_on_failure);
    RUN(s15_74_complete_with_null_context);
    RUN(s15_77_delete_without_closing);
    return HARNESS_EXIT();
}
