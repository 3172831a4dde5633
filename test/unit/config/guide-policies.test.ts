/**
 * Every policy in docs/guides/protect-an-api.md compiles with the real compiler, so the guide cannot drift
 * from the schema: each ```jsonc block there is a whole policy file an operator copies into policies/.
 * The guide must also keep one section per preset: a preset missing from every block fails the test.
 */
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import guide from '../../../docs/guides/protect-an-api.md?raw';
import { compilePolicies, formatPolicyError } from '../../../src/config/compile.ts';
import { PRESET_NAMES } from '../../../src/config/presets.ts';

const FILE = 'docs/guides/protect-an-api.md';

/** The ```jsonc fenced blocks of a markdown text, with the line each starts on (for the failure message). */
function jsoncBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```jsonc') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    if (end === lines.length) throw new Error(`${FILE}:${i + 1}: a \`\`\`jsonc block is never closed`);
    blocks.push({ line: start + 1, text: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

const blocks = jsoncBlocks(guide);

describe('the policies of the "protect an API" guide', () => {
  it('has policy blocks to check (the extraction found them)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(PRESET_NAMES.length);
  });

  it.each(blocks.map((b) => [b.line, b.text] as const))('the policy starting at line %i compiles', (line, text) => {
    const result = compilePolicies([{ file: `${FILE} (block at line ${line})`, text }]);
    if (!result.ok) expect.fail(result.errors.map(formatPolicyError).join('\n'));
    expect(result.config.routes.length).toBeGreaterThan(0);
  });

  it('shows every preset in at least one compiled policy', () => {
    const used = new Set<string>();
    for (const { text } of blocks) {
      if (!compilePolicies([{ file: FILE, text }]).ok) continue;
      // The compiled config no longer names the preset, so read it from the source the compiler accepted.
      const issuers = (parse(text) as { issuers?: Record<string, { preset?: string }> }).issuers ?? {};
      for (const issuer of Object.values(issuers)) if (issuer.preset) used.add(issuer.preset);
    }
    expect([...used].sort()).toEqual([...PRESET_NAMES].sort());
  });
});
