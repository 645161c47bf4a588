#!/usr/bin/env node
/**
 * Which functions a measured stretch ran: the samples of a CPU profile (stall-profile.ts) between
 * two instants on its clock (µs, the loop-stall meter's longestAtUs), summed by function, self and
 * inclusive time.
 *
 *   node scripts/stall-window.mjs <file.cpuprofile> <fromUs> <toUs> [top=25]
 */
import { readFileSync } from 'node:fs';

const [file, fromArg, toArg, topArg] = process.argv.slice(2);
if (!file || !fromArg || !toArg) {
  console.error('usage: stall-window.mjs <file.cpuprofile> <fromUs> <toUs> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const from = Number(fromArg);
const to = Number(toArg);
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|node_modules|test)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const total = new Map();
let t = profile.startTime;
let inWindow = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  if (t < from || t > to) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  inWindow += dt;
  let id = profile.samples[i];
  self.set(name(byId.get(id)), (self.get(name(byId.get(id))) ?? 0) + dt);
  const seen = new Set();
  for (; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}
const ms = (us) => (us / 1000).toFixed(2).padStart(8);
console.log(`window ${((to - from) / 1000).toFixed(1)} ms, sampled ${ms(inWindow)} ms`);
console.log('self:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)}  ${k}`);
console.log('inclusive:');
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)}  ${k}`);
