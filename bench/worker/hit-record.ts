/** The verification record of a repeated-token request (a cache hit, the assertion reused), for the Workers that log one without the gateway. */
import type { VerificationRecord } from '../../src/log/record.ts';

export function fillAsHit(record: VerificationRecord, status: number, latencyMs: number): VerificationRecord {
  return Object.assign(record, {
    route: 'rsa', policy: 'bench', mode: 'enforce', outcome: 'allowed', status, iss: 'https://rsa.bench.example',
    aud: 'https://bench-api.example', app: 'bench', sub: 'bench-user', kid: 'bench-rsa', alg: 'RS256', key_layer: 'memory',
    token_fp: '0123456789abcdef', token_cache: 'hit', assertion: 'reused', latency_ms: latencyMs, origin_status: status,
  } as const);
}
