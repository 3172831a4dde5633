/** settings.log_subject in a policy: compiled when given, absent (read as "plain") when not, refused when unknown. */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';

const compile = (settings: object) => compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings, routes: { r: { path: '/*', mode: 'public', origin: 'https://o.example' } } }) }]);

describe('settings.log_subject', () => {
  it.each(['plain', 'hashed', 'omitted'] as const)('compiles "%s"', (mode) => {
    const result = compile({ log_subject: mode });
    expect(result.ok && result.config.settings.logSubject).toBe(mode);
  });

  it('is left out of the compiled settings when not given', () => {
    const result = compile({});
    expect(result.ok && 'logSubject' in result.config.settings).toBe(false);
  });

  it('refuses an unknown mode with the JSON path', () => {
    const result = compile({ log_subject: 'sha1' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.path)).toContain('/settings/log_subject');
  });
});

describe('settings.log_allowed', () => {
  it.each([0, 0.01, 1])('compiles %s', (rate) => {
    const result = compile({ log_allowed: rate });
    expect(result.ok && result.config.settings.logAllowed).toBe(rate);
  });

  it('is left out of the compiled settings when not given (every allowed request is recorded)', () => {
    const result = compile({});
    expect(result.ok && 'logAllowed' in result.config.settings).toBe(false);
  });

  it.each([-0.1, 1.5, '0.5', 'none'])('refuses %j with the JSON path', (rate) => {
    const result = compile({ log_allowed: rate });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.path)).toContain('/settings/log_allowed');
  });
});
