/* websocket.h in strict C99 (and, compiled with -x c++, in C++98), with -pedantic: the
 * header must compile cleanly without C11/C++11 features. */
#include <websocket.h>

int main(void) {
    WEB_SOCKET_HANDLE h = NULL;
    WEB_SOCKET_BUFFER_TYPE type = WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE;
    HRESULT hr = WebSocketCreateServerHandle(NULL, 0, &h);
    if (FAILED(hr) || h == NULL || type != WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE) {
        return 1;
    }
    WebSocketDeleteHandle(h);
    return 0;
}
