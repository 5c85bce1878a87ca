/* websocket.h in strict C99 (and, compiled with -x c++, in C++98), with -pedantic: the
 * header must compile cleanly without C11/C++11 features. Also compiled as C11, C++11 and
 * C++17 with gcc and clang (tests/c_programs.rs), and linked through pkg-config against
 * an installed copy of the library. */
#include <websocket.h>

int main(void) {
    WEB_SOCKET_HANDLE h = NULL;
    WEB_SOCKET_BUFFER_TYPE type = WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE;
    BOOL deflate = TRUE;
    WEB_SOCKET_PROPERTY property;
    HRESULT hr;
    property.Type = WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE;
    property.pvValue = &deflate;
    property.ulValueSize = sizeof deflate;
    hr = WebSocketCreateServerHandle(&property, 1, &h);
    if (FAILED(hr) || h == NULL || type != WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE) {
        return 1;
    }
    WebSocketDeleteHandle(h);
    return 0;
}
