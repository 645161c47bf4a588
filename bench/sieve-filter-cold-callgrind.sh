#!/bin/sh
# `sh bench/sieve-filter-cold-callgrind.sh [N] [MB]` (from a checkout): bench/sieve-filter-cold.ts under
# callgrind's cache model (see its header): per filter call, instructions, first-level misses
# (I1+D1) and last-level misses (a 2 MiB last level, one core's L2), the N flushes alone subtracted.
set -e
N=${1:-300}
MB=${2:-4}
OUT=$(mktemp -d)
valgrind --tool=callgrind --cache-sim=yes --LL=2097152,16,64 --smc-check=all-non-file --callgrind-out-file="$OUT/cg" \
  node --predictable --single-threaded --import tsx bench/sieve-filter-cold.ts "$N" --mb "$MB" --callgrind >/dev/null 2>"$OUT/log" || { tail -20 "$OUT/log"; exit 1; }
node -e '
const fs = require("fs");
const [dir, n] = process.argv.slice(1);
const dumps = fs.readdirSync(dir).filter((f) => /^cg\.\d+$/.test(f)).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
const read = (f) => { const t = fs.readFileSync(dir + "/" + f, "utf8"); const ev = /^events: (.*)$/m.exec(t)[1].split(" "); const tot = /^(?:summary|totals): (.*)$/m.exec(t)[1].split(" ").map(Number); return (e) => tot[ev.indexOf(e)] || 0; };
const [a, b] = dumps.slice(-2).map(read);
const per = (f) => ((f(a) - f(b)) / Number(n));
const l1 = (x) => x("I1mr") + x("D1mr") + x("D1mw");
const ll = (x) => x("ILmr") + x("DLmr") + x("DLmw");
console.log(`per filter call, caches cold: ${(per((x) => x("Ir")) / 1e3).toFixed(1)} k instructions, ${per(l1).toFixed(0)} L1 misses (I1 ${per((x) => x("I1mr")).toFixed(0)}), ${per(ll).toFixed(0)} LL misses (IL ${per((x) => x("ILmr")).toFixed(0)})`);
' "$OUT" "$N"
if [ -n "$KEEP" ]; then echo "dumps kept in $OUT"; else rm -rf "$OUT"; fi
