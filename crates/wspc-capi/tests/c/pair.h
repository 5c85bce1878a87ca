/* The opening handshake of a client handle and a server handle in memory, as Microsoft's
 * sample does it: the client's headers plus Host go to the server, the server's to the
 * client. Shared by the C tests. */
#ifndef WSPC_TEST_PAIR_H
#define WSPC_TEST_PAIR_H

#include <websocket.h>

#include <string.h>

static HRESULT handshake(WEB_SOCKET_HANDLE c, WEB_SOCKET_HANDLE s) {
    static char host[] = "Host", localhost[] = "localhost";
    PWEB_SOCKET_HTTP_HEADER ch, sh;
    ULONG cn, sn;
    WEB_SOCKET_HTTP_HEADER request[16];
    HRESULT hr = WebSocketBeginClientHandshake(c, NULL, 0, NULL, 0, NULL, 0, &ch, &cn);
    if (FAILED(hr)) {
        return hr;
    }
    memcpy(request, ch, cn * sizeof *ch);
    request[cn].pcName = host;
    request[cn].ulNameLength = 4;
    request[cn].pcValue = localhost;
    request[cn].ulValueLength = 9;
    hr = WebSocketBeginServerHandshake(s, NULL, NULL, 0, request, cn + 1, &sh, &sn);
    if (FAILED(hr)) {
        return hr;
    }
    hr = WebSocketEndClientHandshake(c, sh, sn, NULL, NULL, NULL);
    return FAILED(hr) ? hr : WebSocketEndServerHandshake(s);
}

#endif
