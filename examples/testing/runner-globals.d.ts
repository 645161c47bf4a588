// The few declarations of vitest, jest and mocha that the examples use, so they type-check in
// Postroom's CI without installing three test runners (test/testing/examples.test.ts). With the
// real runner installed its own types apply instead; the calls are the same.
declare module 'vitest' {
  export function test(name: string, fn: () => unknown): void;
  export function beforeAll(fn: () => unknown): void;
  export function beforeEach(fn: () => unknown): void;
  export function afterAll(fn: () => unknown): void;
  export function expect(value: unknown): { toHaveLength(n: number): void; toBe(v: unknown): void; toBeGreaterThan(n: number): void };
}

// jest and mocha put these on the global scope.
declare function beforeAll(fn: () => unknown): void;
declare function afterAll(fn: () => unknown): void;
declare function beforeEach(fn: () => unknown): void;
declare function before(fn: () => unknown): void;
declare function after(fn: () => unknown): void;
declare function test(name: string, fn: () => unknown): void;
declare function it(name: string, fn: () => unknown): void;
declare function describe(name: string, fn: (this: unknown) => void): void;
declare function expect(value: unknown): { toHaveLength(n: number): void; toBe(v: unknown): void; toBeGreaterThan(n: number): void };
