/** Sieve scripts and vacation memory of one user, in memory (contract: ../sieve-storage.ts). */
import { StoreError } from '../errors.js';
import { utf8Size, vacationKey, type SieveScriptInfo, type SieveScriptStorage, type VacationMemory } from '../sieve-storage.js';
import type { MemorySieveState } from './state.js';

export class MemorySieveScripts implements SieveScriptStorage {
  constructor(private readonly state: MemorySieveState) {}

  async sieveList(): Promise<SieveScriptInfo[]> {
    return [...this.state.scripts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, content]) => ({ name, active: this.state.active === name, size: utf8Size(content) }));
  }

  async sieveGet(name: string): Promise<string> {
    const content = this.state.scripts.get(name);
    if (content === undefined) throw new StoreError('nonexistent', `no script named ${name}`);
    return content;
  }

  async sievePut(name: string, content: string): Promise<void> {
    this.state.scripts.set(name, content);
  }

  async sieveDelete(name: string): Promise<void> {
    if (!this.state.scripts.has(name)) throw new StoreError('nonexistent', `no script named ${name}`);
    if (this.state.active === name) throw new StoreError('inuse', `script ${name} is active`);
    this.state.scripts.delete(name);
  }

  async sieveRename(from: string, to: string): Promise<void> {
    const content = this.state.scripts.get(from);
    if (content === undefined) throw new StoreError('nonexistent', `no script named ${from}`);
    if (from === to) return;
    if (this.state.scripts.has(to)) throw new StoreError('alreadyexists', `a script named ${to} exists`);
    this.state.scripts.delete(from);
    this.state.scripts.set(to, content);
    if (this.state.active === from) this.state.active = to;
  }

  async sieveSetActive(name: string | null): Promise<void> {
    if (name !== null && !this.state.scripts.has(name)) throw new StoreError('nonexistent', `no script named ${name}`);
    this.state.active = name;
  }

  async sieveActive(): Promise<{ name: string; content: string } | null> {
    const name = this.state.active;
    const content = name === null ? undefined : this.state.scripts.get(name);
    return name === null || content === undefined ? null : { name, content };
  }

  async vacationRemember(handle: string, address: string, until: Date): Promise<void> {
    this.state.vacation.set(`${handle}\0${vacationKey(address)}`, until.getTime());
  }

  async vacationAnswered(handle: string, address: string, now: Date): Promise<boolean> {
    const until = this.state.vacation.get(`${handle}\0${vacationKey(address)}`);
    return until !== undefined && until > now.getTime();
  }

  async vacationClaim(handle: string, address: string, now: Date, until: Date): Promise<boolean> {
    // No await between the look and the write: one claim at a time by construction.
    const key = `${handle}\0${vacationKey(address)}`;
    const current = this.state.vacation.get(key);
    if (current !== undefined && current > now.getTime()) return false;
    this.state.vacation.set(key, until.getTime());
    return true;
  }

  async vacationRelease(handle: string, address: string, until: Date): Promise<void> {
    const key = `${handle}\0${vacationKey(address)}`;
    if (this.state.vacation.get(key) === until.getTime()) this.state.vacation.delete(key);
  }

  async vacationList(now: Date): Promise<VacationMemory[]> {
    const out: VacationMemory[] = [];
    for (const [key, until] of this.state.vacation) {
      if (until <= now.getTime()) continue;
      const cut = key.indexOf('\0');
      out.push({ handle: key.slice(0, cut), address: key.slice(cut + 1), until: new Date(until) });
    }
    return out;
  }

  async vacationPrune(now: Date): Promise<number> {
    let removed = 0;
    for (const [key, until] of this.state.vacation) {
      if (until <= now.getTime()) {
        this.state.vacation.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
