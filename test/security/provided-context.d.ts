// Values vitest.config.ts provides to the workerd tests (inject()).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Runs per property in test/security/fuzz.test.ts (FUZZ_RUNS; 0 = the CI default). */
    fuzzRuns: number;
  }
}
