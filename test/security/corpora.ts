/// <reference types="vite/client" />
/**
 * The test vectors in test/vectors/ (Wycheproof, RFC examples; sources in test/vectors/PROVENANCE.txt), bundled
 * by vite at collection time: workerd has no file system to read them from at test time. `?raw` keeps them as
 * text: one JSON.parse each, no transform. The glob is relative, so the suites need nothing outside the checkout.
 */
const files = import.meta.glob<string>(['../vectors/**/*.json'], { query: '?raw', import: 'default' });
const ROOT = '../vectors/';

/** Parsed JSON of `relative` (e.g. "wycheproof/testvectors_v1/ed25519_test.json"); throws when test/vectors lacks it. */
export async function corpusJson<T = unknown>(relative: string): Promise<T> {
  const load = files[ROOT + relative];
  if (!load) throw new Error(`test vector file test/vectors/${relative} not found (have ${Object.keys(files).length} files)`);
  return JSON.parse(await load()) as T;
}

export const corpusFileNames = (prefix: string): string[] =>
  Object.keys(files)
    .map((path) => path.slice(ROOT.length))
    .filter((path) => path.startsWith(prefix));

export const hexToBytes = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
};
