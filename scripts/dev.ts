/**
 * `npm start [-- --port 8787 --issuer-port 8788 --origin-port 8789]`: the gateway (wrangler dev) in front of
 * a demo issuer and an echo origin, all on 127.0.0.1, all stopped with Ctrl-C.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readableLine } from '../src/log/format.ts';
import { parseCli, portOption, spawnWrangler } from './cli.ts';
import { compileAndWrite, ROOT } from './compile-policies.ts';
import { demoAdminToken } from './demo/admin-token.ts';
import { demoGatewaySigningKey } from './demo/gateway-key.ts';
import { DEMO_HOST, GATEWAY_PORT, ISSUER_PORT, ORIGIN_PORT, startDemoIssuer, startEchoOrigin } from './demo/servers.ts';

const USAGE = 'npm start -- [--port 8787] [--issuer-port 8788] [--origin-port 8789]';
const { values } = parseCli(
  'start',
  { options: { port: { type: 'string' }, 'issuer-port': { type: 'string' }, 'origin-port': { type: 'string' } }, strict: true },
  USAGE,
);
const ports = {
  gateway: portOption('start', 'port', values.port ?? String(GATEWAY_PORT)),
  issuer: portOption('start', 'issuer-port', values['issuer-port'] ?? String(ISSUER_PORT)),
  origin: portOption('start', 'origin-port', values['origin-port'] ?? String(ORIGIN_PORT)),
};

/** A busy port is one readable line naming the option that moves it, not an EADDRINUSE stack. */
async function orStop<T>(what: string, option: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'is not allowed' : `cannot be opened (${code ?? String(error)})`;
    console.error(`start: port ${port} (${what}) ${why}; stop what holds it or choose another: npm start -- --${option} N`);
    process.exit(1);
  }
}

// The demo policy's JWKS URL and origin follow the ports (compile-policies.ts), in this compile and in the one
// wrangler runs as its build command, which inherits this environment.
if (ports.issuer !== ISSUER_PORT) process.env.DEMO_ISSUER_PORT = String(ports.issuer);
if (ports.origin !== ORIGIN_PORT) process.env.DEMO_ORIGIN_PORT = String(ports.origin);
if (!compileAndWrite()) process.exit(1);

// wrangler dev reports a busy port in its own way, late and long: try it first.
await orStop('gateway', 'port', ports.gateway, () => new Promise<void>((resolve, reject) => {
  const probe: Server = createServer().once('error', reject);
  probe.listen(ports.gateway, DEMO_HOST, () => probe.close(() => resolve()));
}));
const issuer = await orStop('demo issuer', 'issuer-port', ports.issuer, () => startDemoIssuer(ports.issuer));
const gatewayJwks = `http://${DEMO_HOST}:${ports.gateway}/.well-known/gateway-jwks.json`;
const origin = await orStop('echo origin', 'origin-port', ports.origin, () => startEchoOrigin(ports.origin, gatewayJwks));
console.log(`demo issuer   http://${DEMO_HOST}:${ports.issuer}/.well-known/jwks.json`);
console.log(`echo origin   http://${DEMO_HOST}:${ports.origin}/`);

// The gateway signs its assertions with a development key it makes for itself (.demo/, git-ignored). It
// reaches wrangler in a .dev.vars-style file, not on the command line where `ps` shows it to everyone; the
// developer's own .dev.vars, if any, is read first (--env-file replaces wrangler's own reading of it).
const demoVars = join(ROOT, '.demo', 'dev.vars');
mkdirSync(join(ROOT, '.demo'), { recursive: true });
writeFileSync(demoVars, `GATEWAY_SIGNING_KEY='${await demoGatewaySigningKey()}'\n`, { mode: 0o600 });
chmodSync(demoVars, 0o600);
const ownVars = join(ROOT, '.dev.vars');
const envFiles = [...(existsSync(ownVars) ? [ownVars] : []), demoVars].flatMap((file) => ['--env-file', file]);

const wrangler = spawnWrangler(
  [
    // --env '': the top-level environment, said out loud (wrangler.toml also defines [env.staging]).
    'dev', '--env', '', '--ip', DEMO_HOST, '--port', String(ports.gateway), ...envFiles, '--var', 'ALLOW_LOOPBACK_HTTP:true', '--show-interactive-dev-session=false',
    // One readable line per decision in this terminal (docs/logging.md); DEBUG_FINDINGS=true npm start adds x-debug-findings.
    '--var', 'LOG_FORMAT:line',
    // The admin endpoint of the emergency controls (docs/control.md): `npm run revoke` etc. read the same file.
    '--var', `GATEWAY_ADMIN_TOKEN:${demoAdminToken()}`,
    ...(process.env.DEBUG_FINDINGS === 'true' ? ['--var', 'DEBUG_FINDINGS:true'] : []),
  ],
  {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_NO_SKILLS_UPDATE_PROMPTS: 'true' },
  },
);
// The Worker prints each record as one line of JSON (LOG_FORMAT=line); the terminal gets the readable line.
createInterface({ input: wrangler.stdout! }).on('line', (line) => console.log(readableLine(line)));
console.log(`gateway       http://${DEMO_HOST}:${ports.gateway}/  (starting; try the README walk-through)`);
console.log(`gateway keys  ${gatewayJwks}  (the echo origin verifies x-verified-assertion with them)`);

let stopping = false;
function stop(code: number) {
  if (stopping) return;
  stopping = true;
  issuer.close();
  origin.close();
  if (wrangler.exitCode === null) wrangler.kill('SIGTERM');
  process.exitCode = code;
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
wrangler.on('exit', (code) => stop(code ?? 0));
