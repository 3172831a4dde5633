import { describe, expect, it } from 'vitest';
import { warmRequestPath, warmStages, type WarmProgress } from '../../src/warm.ts';

describe('warm-up at load (src/warm.ts)', () => {
  it('runs every stage of an accepted request through to the end, each giving the answer it must', () => {
    const progress: WarmProgress = { stage: '' };
    expect(() => warmStages(progress)).not.toThrow();
    expect(progress.stage).toBe('record bounds');
  });

  it('reports success as null (here in an isolate that has run the stages already, as a second Gateway would)', () => {
    expect(warmRequestPath()).toBeNull();
  });

  it('never throws: a stage that fails is reported with its name and error, for the entry point to log once', () => {
    const failing = (progress: WarmProgress) => {
      progress.stage = 'shape';
      throw new TypeError('Disallowed operation called within global scope');
    };
    expect(warmRequestPath(failing)).toBe('shape: TypeError: Disallowed operation called within global scope');
    expect(warmRequestPath(() => { throw 'not an Error'; })).toBe('start: unknown');
  });
});
