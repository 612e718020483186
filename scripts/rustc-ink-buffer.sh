#!/bin/sh
# RUSTC_WRAPPER of scripts/build-contracts.sh: runs rustc with ink!'s static buffer size (read
# by ink_env at compile time) set to 32 KiB. See build-contracts.sh for why it is not exported.
INK_STATIC_BUFFER_SIZE=32768
export INK_STATIC_BUFFER_SIZE
exec "$@"
