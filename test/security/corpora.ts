/// <reference types="vite/client" />
/**
 * The shared read-only corpora, loaded through the `@corpora` alias of vitest.config.ts (workerd has no file
 * system to read them from at test time). `?raw` keeps them as text: one JSON.parse each, no transform.
 */
const files = import.meta.glob<string>(['@corpora/**/*.json'], { query: '?raw', import: 'default' });

/** Parsed JSON of `relative` (e.g. "wycheproof/testvectors_v1/ed25519_test.json"); throws when the corpus lacks it. */
export async function corpusJson<T = unknown>(relative: string): Promise<T> {
  const entry = Object.entries(files).find(([path]) => path.endsWith(`/corpora/${relative}`) || path === `@corpora/${relative}`);
  if (!entry) throw new Error(`corpus file ${relative} not found (have ${Object.keys(files).length} files; is ../shared/corpora there?)`);
  return JSON.parse(await entry[1]()) as T;
}

export const corpusFileNames = (prefix: string): string[] =>
  Object.keys(files)
    .map((path) => path.slice(path.indexOf('corpora/') + 'corpora/'.length))
    .filter((path) => path.startsWith(prefix));

export const hexToBytes = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};
