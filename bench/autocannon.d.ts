// autocannon ships no types; the benchmark uses a handful of its options and result fields.
declare module 'autocannon' {
  interface Histogram {
    p50: number;
    p99: number;
  }
  interface Result {
    latency: Histogram;
    errors: number;
    timeouts: number;
  }
  interface Instance extends PromiseLike<Result> {
    on(event: 'response', listener: (client: unknown, status: number, bytes: number, time: number) => void): void;
    stop(): void;
  }
  function autocannon(options: Record<string, unknown>): Instance;
  export default autocannon;
}
