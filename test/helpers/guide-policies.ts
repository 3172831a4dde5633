/** The policy files of docs/guides/protect-an-api.md: every ```jsonc block there is one whole policy file. */
import { parse } from 'jsonc-parser';
import guide from '../../docs/guides/protect-an-api.md?raw';

export const GUIDE_FILE = 'docs/guides/protect-an-api.md';

export interface GuidePolicy {
  /** The markdown line the block's text starts on. */
  line: number;
  text: string;
  /** The presets its issuers use, read from the source (the compiled config no longer names them). */
  presets: string[];
  /** A file name for compile errors that points at the block. */
  file: string;
  /** Which cases exercise it: its presets, and "(multi-tenant)" when an issuer lists tenants. */
  key: string;
}

/** The ```jsonc fenced blocks of a markdown text, each with the line it starts on. */
export function jsoncBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```jsonc') continue;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    if (end === lines.length) throw new Error(`${GUIDE_FILE}:${i + 1}: a \`\`\`jsonc block is never closed`);
    blocks.push({ line: i + 2, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

export const guidePolicies: GuidePolicy[] = jsoncBlocks(guide).map(({ line, text }) => {
  const issuers = (parse(text) as { issuers?: Record<string, { preset?: string; tenants?: unknown }> } | undefined)?.issuers ?? {};
  const presets = Object.values(issuers).flatMap((issuer) => (issuer.preset ? [issuer.preset] : []));
  const multiTenant = Object.values(issuers).some((issuer) => issuer.tenants !== undefined);
  return { line, text, presets, file: `${GUIDE_FILE} (block at line ${line})`, key: presets.join('+') + (multiTenant ? ' (multi-tenant)' : '') };
});
