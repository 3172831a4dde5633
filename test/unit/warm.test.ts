import { describe, expect, it } from 'vitest';
import { warmRequestPath, warmStages } from '../../src/warm.ts';

describe('warm-up at load (src/warm.ts)', () => {
  it('runs every stage of an accepted request through, to the end: each stage checks it got the answer it expects', () => {
    expect(() => warmStages()).not.toThrow();
  });

  it('reports success as null, and can run again (a second isolate load) with the same result', () => {
    expect(warmRequestPath()).toBeNull();
    expect(warmRequestPath()).toBeNull();
  });
});
