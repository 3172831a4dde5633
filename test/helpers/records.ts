/** Captures the verification records the gateway logs (and keeps them out of the test output). */
import { vi } from 'vitest';
import type { VerificationRecord } from '../../src/log/record.ts';

export class RecordCapture {
  readonly records: VerificationRecord[] = [];
  /** Every console.log call's arguments, records or not: for checking that nothing at all leaks. */
  readonly lines: unknown[][] = [];
  readonly #spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    this.lines.push(args);
    const [value] = args;
    if (typeof value === 'object' && value !== null && (value as { v?: unknown }).v === 1) this.records.push(value as VerificationRecord);
  });

  last(): VerificationRecord {
    const record = this.records.at(-1);
    if (!record) throw new Error('no verification record was logged');
    return record;
  }

  restore(): void {
    this.#spy.mockRestore();
  }
}
