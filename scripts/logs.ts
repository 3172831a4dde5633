/**
 * `npm run logs -- [wrangler tail options]`: follows the deployed gateway's logs (`wrangler tail --format
 * json`) and prints one readable line per decision, the same line `npm start` prints locally.
 *   npm run logs                          # every request of the Worker in wrangler.toml
 *   npm run logs -- --status error        # any `wrangler tail` filter is passed through
 *   npm run -s logs -- --stdin < tail.json   # format tail JSON saved earlier (or piped from elsewhere)
 */
import { spawnWrangler } from './cli.ts';
import { jsonStreamSplitter, linesOfTailEvent } from '../src/log/tail.ts';
import { ROOT } from './compile-policies.ts';

const args = process.argv.slice(2);
const fromStdin = args.includes('--stdin');
const split = jsonStreamSplitter();

// Streams decode UTF-8 themselves (setEncoding): a character split across two chunks stays whole.
function print(chunk: string): void {
  for (const event of split(chunk)) for (const line of linesOfTailEvent(event)) process.stdout.write(line + '\n');
}

if (fromStdin) {
  process.stdin.setEncoding('utf8').on('data', print);
} else {
  // wrangler asks a person at a terminal to log in (`wrangler login`) only when its stdin is that terminal;
  // with any other stdin it can only say to set CLOUDFLARE_API_TOKEN, which is for CI.
  const wrangler = spawnWrangler(['tail', '--format', 'json', ...args], {
    cwd: ROOT,
    stdio: [process.stdin.isTTY ? 'inherit' : 'ignore', 'pipe', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  wrangler.stdout!.setEncoding('utf8').on('data', print);
  wrangler.on('exit', (code) => (process.exitCode = code ?? 0));
  process.on('SIGINT', () => wrangler.kill('SIGINT'));
}
