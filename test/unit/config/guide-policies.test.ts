/**
 * Every policy in docs/guides/protect-an-api.md compiles with the real compiler, so the guide cannot drift
 * from the schema: each ```jsonc block there is a whole policy file an operator copies into policies/.
 * The guide must also keep one section per preset: a preset missing from every block fails the test.
 * test/integration/guide-policies.test.ts sends each of them the tokens the guide talks about.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies, formatPolicyError } from '../../../src/config/compile.ts';
import { PRESET_NAMES } from '../../../src/config/presets.ts';
import { guidePolicies, jsoncBlocks } from '../../helpers/guide-policies.ts';

describe('the policies of the "protect an API" guide', () => {
  it('finds the jsonc blocks of a markdown text, and only those', () => {
    const md = ['text', '```jsonc', '{ "a": 1 }', '```', '```json', '{}', '```', '  ```jsonc', '{', '}', '  ```'].join('\n');
    expect(jsoncBlocks(md)).toEqual([
      { line: 3, text: '{ "a": 1 }' },
      { line: 9, text: '{\n}' },
    ]);
    expect(() => jsoncBlocks('```jsonc\n{}')).toThrow(/never closed/);
  });

  it('has a policy block per preset at least', () => {
    expect(guidePolicies.length).toBeGreaterThanOrEqual(PRESET_NAMES.length);
  });

  it.each(guidePolicies.map((p) => [p.line, p] as const))('the policy starting at line %i compiles', (_line, policy) => {
    const result = compilePolicies([{ file: policy.file, text: policy.text }]);
    if (!result.ok) expect.fail(result.errors.map(formatPolicyError).join('\n'));
    expect(result.config.routes.length).toBeGreaterThan(0);
  });

  it('shows every preset', () => {
    const used = new Set(guidePolicies.flatMap((p) => p.presets));
    expect([...used].sort()).toEqual([...PRESET_NAMES].sort());
  });
});
