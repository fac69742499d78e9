#!/bin/sh
# Starts the m4 binary beside this script with the given arguments (macOS and Linux).
#
# Claude Desktop runs it as `/bin/sh launch.sh serve`, so this script only needs to be
# readable: some Claude Desktop versions unpack a bundle without the executable bit
# (modelcontextprotocol/mcpb issue 294), and this restores it on the binary first.
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
bin="$here/m4"
if [ ! -f "$bin" ]; then
  echo "m4 launcher: no m4 binary at $bin" >&2
  echo "hint: reinstall the m4 extension (the bundle is incomplete)" >&2
  exit 127
fi
if [ ! -x "$bin" ]; then
  chmod u+x "$bin" 2>/dev/null || {
    echo "m4 launcher: $bin is not executable and chmod failed" >&2
    echo "hint: run: chmod +x \"$bin\"" >&2
    exit 126
  }
fi
exec "$bin" "$@"
