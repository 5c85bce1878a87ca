#!/usr/bin/env bash
# Installs libwebsocket.so, libwebsocket.a, websocket.h and a pkg-config file (websocket.pc).
#
#   crates/wspc-capi/install.sh [--prefix DIR] [--libdir DIR] [--from DIR]
#
#   --prefix DIR  installation prefix (default /usr/local): DIR/include/websocket.h,
#                 DIR/lib/libwebsocket.{so,a}, DIR/lib/pkgconfig/websocket.pc
#   --libdir DIR  library directory (default PREFIX/lib)
#   --from DIR    take the libraries from DIR instead of building them
#                 (default: cargo build --release -p wspc-capi --lib, then target/release)
#
# Then: cc app.c $(pkg-config --cflags --libs websocket)
#   (static: cc app.c $(pkg-config --cflags websocket) PREFIX/lib/libwebsocket.a \
#            $(pkg-config --static --libs-only-l websocket | sed 's/-lwebsocket//'))
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=/usr/local
libdir=""
from=""
while (($#)); do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a value}; shift ;;
    --libdir) libdir=${2:?--libdir needs a value}; shift ;;
    --from) from=${2:?--from needs a value}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $from ]]; then
  (cd "$root" && cargo build --release -p wspc-capi --lib)
  from=$root/target/release
fi
libdir=${libdir:-$prefix/lib}
includedir=$prefix/include
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
install -d "$libdir/pkgconfig" "$includedir"
install -m 0755 "$from/libwebsocket.so" "$libdir/libwebsocket.so"
install -m 0644 "$from/libwebsocket.a" "$libdir/libwebsocket.a"
install -m 0644 "$here/include/websocket.h" "$includedir/websocket.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
  -e "s|@VERSION@|$version|" "$here/websocket.pc.in" >"$libdir/pkgconfig/websocket.pc"
echo "installed libwebsocket $version in $prefix (pkg-config: $libdir/pkgconfig/websocket.pc)"
