/*
 * websocket.h - the Windows WebSocket Protocol Component API, for libwebsocket (wspc).
 *
 * Source-compatible with Windows' <websocket.h>: the same type, enumerator, structure and
 * function names, values, layouts and signatures, so that code written for websocket.dll
 * compiles and links unchanged against libwebsocket (-lwebsocket).
 *
 * On Windows (_WIN32 defined) the base types come from <windows.h>. Elsewhere this header
 * is self-contained: it defines the Windows base types it needs with Windows widths
 * (ULONG and HRESULT are 32-bit, as on Windows, not `long`), unless the program already
 * has them (from its own windows.h shim: define WSPC_HAVE_WINDOWS_TYPES before including
 * this header to skip them). WINAPI is the platform's C calling convention.
 *
 * Valid C (C99 and later) and C++. Behaviour, ownership rules and every point where the
 * library decides what Windows leaves undocumented: docs/c-api.md.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */

#ifndef WSPC_WEBSOCKET_H
#define WSPC_WEBSOCKET_H

#ifdef _WIN32
#include <windows.h>
#else /* !_WIN32 */

#include <stddef.h> /* NULL, as <windows.h> provides it */
#include <stdint.h>

#ifndef WINAPI
#define WINAPI
#endif

#if !defined(WSPC_HAVE_WINDOWS_TYPES) && !defined(_WINDEF_) && !defined(_MINWINDEF_) && \
    !defined(__WINE_WINDEF_H)
#define WSPC_HAVE_WINDOWS_TYPES 1
typedef uint32_t ULONG;
typedef uint16_t USHORT;
typedef int BOOL;
typedef unsigned char BYTE;
typedef BYTE *PBYTE;
typedef char CHAR;
typedef CHAR *PCHAR;
typedef const CHAR *PCSTR;
typedef void *PVOID;
#ifndef VOID
#define VOID void
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif
#endif /* base types */

#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

#ifndef DECLARE_HANDLE
#define DECLARE_HANDLE(name) \
    struct name##__ {        \
        int unused;          \
    };                       \
    typedef struct name##__ *name
#endif

#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif

#ifndef FACILITY_WIN32
#define FACILITY_WIN32 7
#endif
#ifndef ERROR_INSUFFICIENT_BUFFER
#define ERROR_INSUFFICIENT_BUFFER 122L
#endif
#ifndef HRESULT_FROM_WIN32
#define HRESULT_FROM_WIN32(x)                \
    ((HRESULT)(x) <= 0 ? ((HRESULT)(x))      \
                       : ((HRESULT)(((uint32_t)(x) & 0x0000FFFFu) | (FACILITY_WIN32 << 16) | 0x80000000u)))
#endif

/* Generic HRESULTs (winerror.h values). */
#ifndef S_OK
#define S_OK ((HRESULT)0L)
#endif
#ifndef S_FALSE
#define S_FALSE ((HRESULT)1L)
#endif
#ifndef E_NOTIMPL
#define E_NOTIMPL ((HRESULT)0x80004001L)
#endif
#ifndef E_POINTER
#define E_POINTER ((HRESULT)0x80004003L)
#endif
#ifndef E_FAIL
#define E_FAIL ((HRESULT)0x80004005L)
#endif
#ifndef E_UNEXPECTED
#define E_UNEXPECTED ((HRESULT)0x8000FFFFL)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG ((HRESULT)0x80070057L)
#endif

#endif /* !_WIN32 */

/* FACILITY_WEBSOCKET (886) HRESULTs (winerror.h values). */
#ifndef E_INVALID_PROTOCOL_OPERATION
#define E_INVALID_PROTOCOL_OPERATION ((HRESULT)0x83760001L)
#endif
#ifndef E_INVALID_PROTOCOL_FORMAT
#define E_INVALID_PROTOCOL_FORMAT ((HRESULT)0x83760002L)
#endif
#ifndef E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED
#define E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED ((HRESULT)0x83760003L)
#endif
#ifndef E_SUBPROTOCOL_NOT_SUPPORTED
#define E_SUBPROTOCOL_NOT_SUPPORTED ((HRESULT)0x83760004L)
#endif
#ifndef E_PROTOCOL_VERSION_NOT_SUPPORTED
#define E_PROTOCOL_VERSION_NOT_SUPPORTED ((HRESULT)0x83760005L)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define WEB_SOCKET_MAX_CLOSE_REASON_LENGTH 123

DECLARE_HANDLE(WEB_SOCKET_HANDLE);

typedef enum _WEB_SOCKET_CLOSE_STATUS {
    WEB_SOCKET_SUCCESS_CLOSE_STATUS = 1000,
    WEB_SOCKET_ENDPOINT_UNAVAILABLE_CLOSE_STATUS = 1001,
    WEB_SOCKET_PROTOCOL_ERROR_CLOSE_STATUS = 1002,
    WEB_SOCKET_INVALID_DATA_TYPE_CLOSE_STATUS = 1003,
    WEB_SOCKET_EMPTY_CLOSE_STATUS = 1005,
    WEB_SOCKET_ABORTED_CLOSE_STATUS = 1006,
    WEB_SOCKET_INVALID_PAYLOAD_CLOSE_STATUS = 1007,
    WEB_SOCKET_POLICY_VIOLATION_CLOSE_STATUS = 1008,
    WEB_SOCKET_MESSAGE_TOO_BIG_CLOSE_STATUS = 1009,
    WEB_SOCKET_UNSUPPORTED_EXTENSIONS_CLOSE_STATUS = 1010,
    WEB_SOCKET_SERVER_ERROR_CLOSE_STATUS = 1011,
    WEB_SOCKET_SECURE_HANDSHAKE_ERROR_CLOSE_STATUS = 1015
} WEB_SOCKET_CLOSE_STATUS;

typedef enum _WEB_SOCKET_PROPERTY_TYPE {
    WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE = 0,
    WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE = 1,
    WEB_SOCKET_DISABLE_MASKING_PROPERTY_TYPE = 2,
    WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE = 3,
    WEB_SOCKET_DISABLE_UTF8_VERIFICATION_PROPERTY_TYPE = 4,
    WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE = 5,
    WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE = 6
} WEB_SOCKET_PROPERTY_TYPE;

/* wspc extension, not in Windows' header: a handle property outside Windows' numbering.
 * A BOOL (ulValueSize 4); TRUE negotiates permessage-deflate (RFC 7692) on a client or
 * server handle: the client offers it in WebSocketBeginClientHandshake, the server
 * accepts an offer in WebSocketBeginServerHandshake, and the component compresses and
 * decompresses messages; the actions are unchanged. Without it a handle behaves exactly
 * as Windows' (no extension negotiated). See docs/c-api.md. */
#define WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE ((WEB_SOCKET_PROPERTY_TYPE)0x77737001)

typedef enum _WEB_SOCKET_ACTION_QUEUE {
    WEB_SOCKET_SEND_ACTION_QUEUE = 0x1,
    WEB_SOCKET_RECEIVE_ACTION_QUEUE = 0x2,
    WEB_SOCKET_ALL_ACTION_QUEUE = WEB_SOCKET_SEND_ACTION_QUEUE | WEB_SOCKET_RECEIVE_ACTION_QUEUE
} WEB_SOCKET_ACTION_QUEUE;

/* The values exceed INT_MAX, as in Windows' header: GCC and Clang give this enum the type
 * `unsigned int` (4 bytes, the same ABI as MSVC's `int`). ISO C before C23 only allows
 * `int` values, so -Wpedantic would warn; the warning is silenced for this enum only. */
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
typedef enum _WEB_SOCKET_BUFFER_TYPE {
    WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE = 0x80000000,
    WEB_SOCKET_UTF8_FRAGMENT_BUFFER_TYPE = 0x80000001,
    WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE = 0x80000002,
    WEB_SOCKET_BINARY_FRAGMENT_BUFFER_TYPE = 0x80000003,
    WEB_SOCKET_CLOSE_BUFFER_TYPE = 0x80000004,
    WEB_SOCKET_PING_PONG_BUFFER_TYPE = 0x80000005,
    WEB_SOCKET_UNSOLICITED_PONG_BUFFER_TYPE = 0x80000006
} WEB_SOCKET_BUFFER_TYPE;
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic pop
#endif

typedef enum _WEB_SOCKET_ACTION {
    WEB_SOCKET_NO_ACTION = 0,
    WEB_SOCKET_SEND_TO_NETWORK_ACTION = 1,
    WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION = 2,
    WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION = 3,
    WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION = 4
} WEB_SOCKET_ACTION, *PWEB_SOCKET_ACTION;

typedef struct _WEB_SOCKET_PROPERTY {
    WEB_SOCKET_PROPERTY_TYPE Type;
    PVOID pvValue;
    ULONG ulValueSize;
} WEB_SOCKET_PROPERTY, *PWEB_SOCKET_PROPERTY;

typedef struct _WEB_SOCKET_HTTP_HEADER {
    PCHAR pcName;
    ULONG ulNameLength;
    PCHAR pcValue;
    ULONG ulValueLength;
} WEB_SOCKET_HTTP_HEADER, *PWEB_SOCKET_HTTP_HEADER;

typedef union _WEB_SOCKET_BUFFER {
    struct {
        PBYTE pbBuffer;
        ULONG ulBufferLength;
    } Data;
    struct {
        PBYTE pbReason;
        ULONG ulReasonLength;
        USHORT usStatus;
    } CloseStatus;
} WEB_SOCKET_BUFFER, *PWEB_SOCKET_BUFFER;

HRESULT WINAPI WebSocketCreateClientHandle(
    const PWEB_SOCKET_PROPERTY pProperties,
    ULONG ulPropertyCount,
    WEB_SOCKET_HANDLE *phWebSocket);

HRESULT WINAPI WebSocketBeginClientHandshake(
    WEB_SOCKET_HANDLE hWebSocket,
    PCSTR *pszSubprotocols,
    ULONG ulSubprotocolCount,
    PCSTR *pszExtensions,
    ULONG ulExtensionCount,
    const PWEB_SOCKET_HTTP_HEADER pInitialHeaders,
    ULONG ulInitialHeaderCount,
    PWEB_SOCKET_HTTP_HEADER *pAdditionalHeaders,
    ULONG *pulAdditionalHeaderCount);

HRESULT WINAPI WebSocketEndClientHandshake(
    WEB_SOCKET_HANDLE hWebSocket,
    const PWEB_SOCKET_HTTP_HEADER pResponseHeaders,
    ULONG ulReponseHeaderCount,
    ULONG *pulSelectedExtensions,
    ULONG *pulSelectedExtensionCount,
    ULONG *pulSelectedSubprotocol);

HRESULT WINAPI WebSocketCreateServerHandle(
    const PWEB_SOCKET_PROPERTY pProperties,
    ULONG ulPropertyCount,
    WEB_SOCKET_HANDLE *phWebSocket);

HRESULT WINAPI WebSocketBeginServerHandshake(
    WEB_SOCKET_HANDLE hWebSocket,
    PCSTR pszSubprotocolSelected,
    PCSTR *pszExtensionSelected,
    ULONG ulExtensionSelectedCount,
    const PWEB_SOCKET_HTTP_HEADER pRequestHeaders,
    ULONG ulRequestHeaderCount,
    PWEB_SOCKET_HTTP_HEADER *pResponseHeaders,
    ULONG *pulResponseHeaderCount);

HRESULT WINAPI WebSocketEndServerHandshake(
    WEB_SOCKET_HANDLE hWebSocket);

HRESULT WINAPI WebSocketSend(
    WEB_SOCKET_HANDLE hWebSocket,
    WEB_SOCKET_BUFFER_TYPE BufferType,
    WEB_SOCKET_BUFFER *pBuffer,
    PVOID Context);

HRESULT WINAPI WebSocketReceive(
    WEB_SOCKET_HANDLE hWebSocket,
    WEB_SOCKET_BUFFER *pBuffer,
    PVOID pvContext);

HRESULT WINAPI WebSocketGetAction(
    WEB_SOCKET_HANDLE hWebSocket,
    WEB_SOCKET_ACTION_QUEUE eActionQueue,
    WEB_SOCKET_BUFFER *pDataBuffers,
    ULONG *pulDataBufferCount,
    WEB_SOCKET_ACTION *pAction,
    WEB_SOCKET_BUFFER_TYPE *pBufferType,
    PVOID *pvApplicationContext,
    PVOID *pvActionContext);

VOID WINAPI WebSocketCompleteAction(
    WEB_SOCKET_HANDLE hWebSocket,
    PVOID pvActionContext,
    ULONG ulBytesTransferred);

VOID WINAPI WebSocketAbortHandle(
    WEB_SOCKET_HANDLE hWebSocket);

VOID WINAPI WebSocketDeleteHandle(
    WEB_SOCKET_HANDLE hWebSocket);

HRESULT WINAPI WebSocketGetGlobalProperty(
    WEB_SOCKET_PROPERTY_TYPE eType,
    PVOID pvValue,
    ULONG *ulSize);

#ifdef __cplusplus
}
#endif

#endif /* WSPC_WEBSOCKET_H */
