/**
 * A byte budget shared by many holders: the input that all not-yet-authenticated connections of a
 * server hold together. Each connection bounds its own input, but ten thousand connections each
 * within its bound can still hold gigabytes; this bounds their sum, so an attacker who opens many
 * connections before logging in cannot exhaust the server's memory.
 *
 * A holder reports how much it holds whenever that may have grown (bytes arrived) or shrunk (a
 * command completed); the total is the sum of the last reports. Reporting more than the budget has
 * left is refused, and the holder is expected to drop its input (the connection says BYE) and
 * release its share.
 */
export class InputBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes currently reported by all holders. */
  get total(): number {
    return this.used;
  }

  /** A share for one holder, starting at zero. */
  share(): BudgetShare {
    return new BudgetShare(this);
  }

  /** @internal */
  adjust(delta: number): void {
    this.used += delta;
  }
}

export class BudgetShare {
  private held = 0;

  constructor(private readonly budget: InputBudget) {}

  get bytes(): number {
    return this.held;
  }

  /**
   * Reports that the holder now holds `bytes`. Shrinking always succeeds; growing fails (and leaves
   * the share as it was) when the total would exceed the budget's limit.
   */
  set(bytes: number): boolean {
    const delta = bytes - this.held;
    if (delta > 0 && this.budget.total + delta > this.budget.limit) return false;
    this.budget.adjust(delta);
    this.held = bytes;
    return true;
  }

  /** Gives the whole share back (the connection authenticated or closed). Idempotent. */
  release(): void {
    this.budget.adjust(-this.held);
    this.held = 0;
  }
}
