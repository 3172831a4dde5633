/**
 * `npm run deploy [-- --env NAME, any wrangler deploy option]` (and `npm run build`, its --dry-run): checks the
 * policies of the environment first, so a broken policy stops here with just its file, line, path and reason.
 * wrangler's build command compiles them again, but when it fails wrangler prints its own stack (~135 lines)
 * after the reason.
 */
import { parseArgs } from 'node:util';
import { spawnWrangler } from './cli.ts';
import { compileAndWrite, ROOT } from './compile-policies.ts';

const args = process.argv.slice(2);
// Only --env matters here; every option goes on to wrangler as given.
const { values } = parseArgs({ args, options: { env: { type: 'string', short: 'e' } }, strict: false });
const env = typeof values.env === 'string' && values.env !== '' ? values.env : process.env.CLOUDFLARE_ENV || undefined;
if (!compileAndWrite(undefined, env)) process.exit(1);

const wrangler = spawnWrangler(['deploy', ...args], { cwd: ROOT, stdio: 'inherit' });
wrangler.on('exit', (code, signal) => (process.exitCode = code ?? (signal ? 1 : 0)));
