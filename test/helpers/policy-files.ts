/// <reference types="vite/client" />
/** The policy files of the repository as text, bundled at test build time (workerd has no file system). */

/** policies/*.jsonc: what the deployed gateway compiles. */
export const deployedPolicyFiles: Record<string, string> = rename(
  import.meta.glob('../../policies/*.jsonc', { query: '?raw', import: 'default', eager: true }),
);
/** policies/examples/*.jsonc: documentation, compiled and exercised by tests, never deployed. */
export const examplePolicyFiles: Record<string, string> = rename(
  import.meta.glob('../../policies/examples/*.jsonc', { query: '?raw', import: 'default', eager: true }),
);

function rename(files: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([path, text]) => [path.replace(/^(\.\.\/)+/, ''), text as string]));
}
