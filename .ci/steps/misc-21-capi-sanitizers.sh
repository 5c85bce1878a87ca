#!/usr/bin/env bash
# The C and C++ programs of crates/wspc-capi (tests/c_programs.rs: the ABI checks, the
# sample flow, the checklist suite, the TCP client, two threads per handle, the examples)
# built with AddressSanitizer and UndefinedBehaviorSanitizer (gcc, every finding fatal,
# leaks included) and run; the normal test step runs them under valgrind. The header
# matrix and the installed-library tests do not depend on the build flags and are not
# repeated.
set -euo pipefail
export WSPC_SANITIZE=address,undefined
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cargo test -p wspc-capi --test c_programs -- --skip installed_library --skip header_compiles
