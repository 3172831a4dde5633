/**
 * Operational warnings (a key set that could not be fetched, an Analytics Engine write that failed, a refused
 * debug header, a failed warm-up): one JSON line on console.warn with `event` first, which `npm run logs`
 * prints as `warn <event> key=value...` (src/log/tail.ts). Never a key, a secret or a token.
 */
export const warn = (event: string, fields: object): void => console.warn(JSON.stringify({ event, ...fields }));
