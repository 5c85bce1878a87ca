#!/usr/bin/env bash
# Builds and installs libwebsocket, the C library of wspc (websocket.h, the Windows
# WebSocket Protocol Component API):
#
#   PREFIX=/usr/local crates/wspc-capi/install.sh            # or: --prefix DIR
#   DESTDIR=/tmp/stage PREFIX=/usr crates/wspc-capi/install.sh   # staged, for packaging
#
# Installs (LIBDIR defaults to PREFIX/lib, INCLUDEDIR to PREFIX/include):
#   LIBDIR/libwebsocket.so.VERSION    SONAME libwebsocket.so.MAJOR; exports only the 13
#                                     functions of websocket.h, versioned (websocket.map)
#   LIBDIR/libwebsocket.so.MAJOR, LIBDIR/libwebsocket.so   symbolic links
#   LIBDIR/libwebsocket.a
#   INCLUDEDIR/websocket.h
#   LIBDIR/pkgconfig/websocket.pc     pkg-config --cflags --libs websocket
#   LIBDIR/cmake/websocket/           find_package(websocket): websocket::websocket
#                                     (shared), websocket::websocket_static
# Every path is prefixed with DESTDIR when it is set (the files are configured for
# PREFIX, not for DESTDIR).
#
# Options (each overrides the environment variable of the same name):
#   --prefix DIR      PREFIX, default /usr/local
#   --libdir DIR      LIBDIR, default PREFIX/lib
#   --includedir DIR  INCLUDEDIR, default PREFIX/include
#   --destdir DIR     DESTDIR, default none
#   --from DIR        take libwebsocket.a from DIR instead of building it with
#                     `cargo build --release -p wspc-capi --lib`
# Environment: CC (default cc) links the shared library from the static one; CARGO.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=${PREFIX:-/usr/local}
libdir=${LIBDIR:-}
includedir=${INCLUDEDIR:-}
destdir=${DESTDIR:-}
from=""
while (($#)); do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a value}; shift ;;
    --libdir) libdir=${2:?--libdir needs a value}; shift ;;
    --includedir) includedir=${2:?--includedir needs a value}; shift ;;
    --destdir) destdir=${2:?--destdir needs a value}; shift ;;
    --from) from=${2:?--from needs a value}; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}
for dir in "$prefix" "$libdir" "$includedir"; do
  [[ $dir == /* ]] || { echo "install.sh: $dir is not an absolute path" >&2; exit 2; }
done
if [[ -z $from ]]; then
  (cd "$root" && "${CARGO:-cargo}" build --release -p wspc-capi --lib)
  from=$root/target/release
fi
[[ -f $from/libwebsocket.a ]] || { echo "install.sh: no libwebsocket.a in $from" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
# What a Rust static library needs from the system (rustc --print native-static-libs).
private_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

# The shared library, linked from the static one with the version script: only the
# symbols websocket.map lists are exported, each with its version node.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
symbols=$(sed -n 's/^ *\(WebSocket[A-Za-z]*\);$/\1/p' "$here/websocket.map")
undefined=()
for s in $symbols; do undefined+=("-Wl,-u,$s"); done
# shellcheck disable=SC2086 # the private libraries are separate words
"${CC:-cc}" -shared -o "$stage/libwebsocket.so.$version" \
  -Wl,-soname,"libwebsocket.so.$major" -Wl,--version-script="$here/websocket.map" \
  "${undefined[@]}" -Wl,--gc-sections -Wl,--no-undefined \
  "$from/libwebsocket.a" $private_libs

# pkg-config and CMake files.
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
  -e "s|@VERSION@|$version|" -e "s|@PRIVATE_LIBS@|$private_libs|" \
  "$here/websocket.pc.in" >"$stage/websocket.pc"
cmake_dir=$libdir/cmake/websocket
# The CMake files find the library relative to themselves, so a staged tree stays
# relocatable; the include directory is found relative to the library directory.
include_from_lib=$(realpath -m --relative-to="$libdir" "$includedir")
cmake_libs=$(echo "$private_libs" | sed -e 's/-l//g' -e 's/ /;/g')
for f in websocket-config.cmake websocket-config-version.cmake; do
  sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" \
    -e "s|@INCLUDE_FROM_LIBDIR@|$include_from_lib|g" -e "s|@PRIVATE_LIBS@|$cmake_libs|g" \
    "$here/cmake/$f.in" >"$stage/$f"
done

install -d "$destdir$libdir/pkgconfig" "$destdir$cmake_dir" "$destdir$includedir"
install -m 0755 "$stage/libwebsocket.so.$version" "$destdir$libdir/libwebsocket.so.$version"
ln -sfn "libwebsocket.so.$version" "$destdir$libdir/libwebsocket.so.$major"
ln -sfn "libwebsocket.so.$major" "$destdir$libdir/libwebsocket.so"
install -m 0644 "$from/libwebsocket.a" "$destdir$libdir/libwebsocket.a"
install -m 0644 "$here/include/websocket.h" "$destdir$includedir/websocket.h"
install -m 0644 "$stage/websocket.pc" "$destdir$libdir/pkgconfig/websocket.pc"
install -m 0644 "$stage/websocket-config.cmake" "$stage/websocket-config-version.cmake" \
  "$destdir$cmake_dir/"
echo "installed libwebsocket $version in $destdir$prefix" \
  "(pkg-config: $libdir/pkgconfig/websocket.pc; CMake: find_package(websocket))"
