#!/usr/bin/env bash
# Islands in the same response, measured: bin/server behind nginx on the
# configuration `atoll nginx` prints, beside Astro's /many, in one
# interleaved browserbench run (make browserbench runs this last).
#
# Pages: Astro's /many; /compare served directly (one batch stream);
# /compare through nginx (islands filled in position by SSI); /compare-end
# through nginx (the same page with edge: end: islands after the content,
# swapped in by the loader). Then the direct and the edge /compare again
# with JavaScript disabled: what the HTML alone carries.
#
# Needs bin/server (make build), nginx and chromium; Astro's reference app
# is measured when the anchor (../shared/bench/anchor.sh) has built it in
# $ANCHOR_WORK.
# env: BB_RUNS (15), BB_PORT (18100: the server; nginx +1, Astro +2, metrics +3),
#      ANCHOR_WORK (/tmp/atoll-anchor). Loopback only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
runs=${BB_RUNS:-15}
port=${BB_PORT:-18100}
edge=$((port + 1))
astro=$((port + 2))
metrics=$((port + 3))
work=${ANCHOR_WORK:-/tmp/atoll-anchor}

fail() { echo "edge.sh: $*" >&2; exit 1; }
[ -x bin/server ] || fail "bin/server is missing: make build"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || fail "nginx is not installed (apt-get install -y nginx)"
withAstro=1
if [ ! -f "$work/astro-ref/dist/server/entry.mjs" ]; then
  echo "edge.sh: Astro's reference app is not built in $work (../shared/bench/anchor.sh builds it): measuring without it"
  withAstro=
fi

dir=$(mktemp -d)
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap stop EXIT

ATOLL_KEYS=$(bin/server -genkey) ATOLL_ADDR=127.0.0.1:$port ATOLL_DB=$dir/atoll.db ATOLL_TRUSTED_PROXIES=127.0.0.1 ATOLL_METRICS_ADDR=127.0.0.1:$metrics \
  bin/server >"$dir/server.log" 2>&1 &
pids+=($!)
go run ./cmd/atoll nginx -listen 127.0.0.1:$edge -upstream 127.0.0.1:$port -dir "$dir" >"$dir/nginx.conf"
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
pids+=($!)
if [ -n "$withAstro" ]; then
  (cd "$work/astro-ref" && HOST=127.0.0.1 PORT=$astro exec ./node_modules/.bin/node ./dist/server/entry.mjs >"$dir/astro.log" 2>&1) &
  pids+=($!)
fi

ready() {
  for _ in $(seq 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  curl -fs -o /dev/null "$1" || { echo "edge.sh: $1 does not answer"; tail -20 "$dir"/*.log; exit 1; }
}
ready "http://127.0.0.1:$port/readyz"
ready "http://127.0.0.1:$edge/compare"
[ -z "$withAstro" ] || ready "http://127.0.0.1:$astro/many"

bb() { (cd tests && go run ./tools/browserbench -url "http://127.0.0.1:$port" -metrics "http://127.0.0.1:$metrics" -interleave -runs "$runs" "$@"); }
what="/compare served directly, and through nginx (atoll nginx) in position and at the end; one interleaved run"
[ -z "$withAstro" ] || what="Astro's /many, $what"
echo "edge: $what"
pages="/compare,http://127.0.0.1:$edge/compare,http://127.0.0.1:$edge/compare-end"
[ -z "$withAstro" ] || pages="http://127.0.0.1:$astro/many,$pages"
bb -pages "$pages"
echo
echo "edge: JavaScript disabled: islands counts what the HTML carries"
bb -nojs -pages "/compare,http://127.0.0.1:$edge/compare"
