#!/bin/sh
# `sh bench/sieve-rules-callgrind.sh VARIANT [N] [MB]`: bench/sieve-rules-split.ts, variant number VARIANT (its table),
# callgrind's cache model (see its header): per run, instructions, first-level misses
# (I1+D1) and last-level misses (a 2 MiB last level, one core's L2), the N flushes alone subtracted;
# then the instructions again without V8's optimizing compiles and full (mark-compact) collections,
# which land in one dump or the other by chance and, at a few hundred calls, outweigh the calls.
# KEEP=1 keeps the dumps.
set -e
VARIANT=${1:-0}
N=${2:-300}
MB=${3:-4}
OUT=$(mktemp -d)
valgrind --tool=callgrind --cache-sim=yes --LL=2097152,16,64 --smc-check=all-non-file --callgrind-out-file="$OUT/cg" \
  node --predictable --single-threaded --expose-gc --max-semi-space-size=64 --import tsx bench/sieve-rules-split.ts "$N" --mb "$MB" --callgrind "$VARIANT" >/dev/null 2>"$OUT/log" || { tail -20 "$OUT/log"; exit 1; }
for f in "$OUT"/cg.*; do callgrind_annotate --inclusive=yes --threshold=100 "$f" > "$f.annotated" 2>/dev/null; done
node -e '
const fs = require("fs");
const [dir, n] = process.argv.slice(1);
const dumps = fs.readdirSync(dir).filter((f) => /^cg\.\d+$/.test(f)).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
const read = (f) => { const t = fs.readFileSync(dir + "/" + f, "utf8"); const ev = /^events: (.*)$/m.exec(t)[1].split(" "); const tot = /^(?:summary|totals): (.*)$/m.exec(t)[1].split(" ").map(Number); return (e) => tot[ev.indexOf(e)] || 0; };
// Inclusive Ir of the outermost optimizing compiles and full collections in a dump (the largest line of each: they do not nest in one another).
const lumps = (f) => { const a = fs.readFileSync(dir + "/" + f + ".annotated", "utf8").split("\n"); const top = (re) => Math.max(0, ...a.filter((l) => re.test(l) && !/\x27\d/.test(l)).map((l) => Number(/^\s*([\d,]+)/.exec(l)?.[1]?.replace(/,/g, "") ?? 0))); return top(/Compiler::CompileOptimized\(/) + top(/MarkCompactCollector::CollectGarbage\(/); };
const [da, db] = dumps.slice(-2);
const [a, b] = [da, db].map(read);
const per = (f) => ((f(a) - f(b)) / Number(n));
const l1 = (x) => x("I1mr") + x("D1mr") + x("D1mw");
const ll = (x) => x("ILmr") + x("DLmr") + x("DLmw");
const without = ((a("Ir") - lumps(da)) - (b("Ir") - lumps(db))) / Number(n);
console.log(`per run, caches cold: ${(per((x) => x("Ir")) / 1e3).toFixed(1)} k instructions (${(without / 1e3).toFixed(1)} k without optimizing compiles and full collections), ${per(l1).toFixed(0)} L1 misses (I1 ${per((x) => x("I1mr")).toFixed(0)}), ${per(ll).toFixed(0)} LL misses (IL ${per((x) => x("ILmr")).toFixed(0)})`);
' "$OUT" "$N"
if [ -n "$KEEP" ]; then echo "dumps kept in $OUT"; else rm -rf "$OUT"; fi
