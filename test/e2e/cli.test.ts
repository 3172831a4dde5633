/**
 * The CLI paper cuts, with the real scripts through npm: usage errors are one line and exit code 2, a negative
 * --ttl is a token the gateway's own code refuses, explain names --allow-loopback-http when the demo issuer is
 * what failed, and `npm start` moves to other ports, says so in one line when one is taken, and keeps the
 * gateway's signing key off every command line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPrivateJwks, publicJwk } from '../../scripts/demo/keys.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Ports away from npm start's own 8787-8789, which test/e2e/npm-start.test.ts uses at the same time. */
const MOVED = { gateway: 18751, issuer: 18752, origin: 18753 };
const BUSY = 18754;
const work = mkdtempSync(join(tmpdir(), 'cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (...args: string[]) => spawnSync('npm', ['run', '-s', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });

function expectUsageError(run: ReturnType<typeof npm>, line: RegExp) {
  expect(run.stderr).toMatch(new RegExp(`^${line.source}\\n$`));
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.status).toBe(2);
}

describe('npm run token', () => {
  it('a mistyped flag, a missing value and a bad --ttl: one line each, exit code 2', () => {
    expectUsageError(npm('token', '--', '--ap', 'billing'), /token: Unknown option '--ap'/);
    expectUsageError(npm('token', '--', '--app'), /token: Option '--app <value>' argument missing/);
    expectUsageError(npm('token', '--', '--ttl', '1.5'), /token: --ttl must be a whole number of seconds, got "1\.5"/);
  });

  it('--ttl -30 gives a token the gateway refuses as expired (beyond its 60 s clock skew), judged by explain with the demo keys', async () => {
    const run = npm('token', '--', '--app', 'billing', '--ttl', '-30');
    const token = run.stdout.trim();
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(Math.floor(Date.now() / 1000) - exp).toBeGreaterThanOrEqual(90);
    const jwks = join(work, 'demo-jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: Object.values(await demoPrivateJwks()).map(publicJwk) }));
    const judged = npm('explain', '--', '--url', 'http://127.0.0.1:8787/billing/x', '--jwks', jwks, '--token', token);
    expect(judged.stdout).toMatch(/FAIL\s+times\s+token_expired/);
    expect(judged.status).toBe(1);
  });
});

describe('npm run explain', () => {
  it('against the demo policies without --allow-loopback-http: the answer, then a hint naming the flag', () => {
    const token = npm('token', '--', '--app', 'billing').stdout.trim();
    const run = npm('explain', '--', '--url', 'http://127.0.0.1:8787/billing/x', '--token', token);
    expect(run.stdout).toMatch(/FAIL\s+key\s+keys_unavailable/);
    expect(run.stdout).toMatch(/\nhint .*127\.0\.0\.1.*\n.*run explain again with --allow-loopback-http\n$/);
    expect(run.status).toBe(1);
  });

  it('a mistyped flag: one line, exit code 2', () => {
    expectUsageError(npm('explain', '--', '--ur', 'x'), /explain: Unknown option '--ur'/);
  });
});

describe('npm start', () => {
  let holder: Server;
  let demo: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    holder?.close();
    if (demo?.exitCode === null) {
      process.kill(-demo.pid!, 'SIGINT');
      await new Promise((resolve) => demo!.once('exit', resolve));
    }
  });

  it('a port that is not a number: one line, exit code 2', () => {
    expectUsageError(npm('start', '--', '--port', 'eighty'), /start: --port must be a port number \(1-65535\), got "eighty"/);
    expectUsageError(npm('start', '--', '--prot', '1'), /start: Unknown option '--prot' \(usage: npm start -- \[--port 8787\] \[--issuer-port 8788\] \[--origin-port 8789\]\)/);
  });

  it.each([
    ['gateway', 'port'],
    ['demo issuer', 'issuer-port'],
    ['echo origin', 'origin-port'],
  ])('a taken port (%s): one line naming it and --%s, exit code 1, no stack', async (what, option) => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(BUSY, '127.0.0.1', resolve));
    const ports = { port: MOVED.gateway, 'issuer-port': MOVED.issuer, 'origin-port': MOVED.origin, [option]: BUSY };
    const run = npm('start', '--', ...Object.entries(ports).flatMap(([name, port]) => [`--${name}`, String(port)]));
    await new Promise((resolve) => holder.close(resolve));
    expect(run.stderr).toBe(`start: port ${BUSY} (${what}) is in use; stop what holds it or choose another: npm start -- --${option} N\n`);
    expect(run.status).toBe(1);
  });

  it('--port, --issuer-port and --origin-port move all three; the signing key is on no command line', async () => {
    const args = ['start', '--', '--port', String(MOVED.gateway), '--issuer-port', String(MOVED.issuer), '--origin-port', String(MOVED.origin)];
    demo = spawn('npm', ['run', '-s', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } });
    demo.stdout!.on('data', (chunk) => (output += chunk));
    demo.stderr!.on('data', (chunk) => (output += chunk));
    let status = 0;
    for (const deadline = Date.now() + 45_000; status !== 401 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      if (demo.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      status = await fetch(`http://127.0.0.1:${MOVED.gateway}/billing/x`).then((r) => r.status, () => 0);
    }
    const token = npm('token', '--', '--app', 'billing').stdout.trim();
    const response = await fetch(`http://127.0.0.1:${MOVED.gateway}/billing/x`, { headers: { authorization: `Bearer ${token}` } });
    // 200 from the echo origin on its new port, whose check of the assertion used the gateway's keys on its new
    // port; the gateway had fetched the token's keys from the demo issuer on its new port.
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ path: '/billing/x', assertion: { verified: true, sub: 'demo-user', app: 'billing' } });
    expect(output).toContain(`demo issuer   http://127.0.0.1:${MOVED.issuer}/.well-known/jwks.json`);

    // The private part of the gateway's development key, in no process's arguments (Linux: /proc/PID/cmdline).
    const { d } = JSON.parse(readFileSync(join(ROOT, '.demo', 'gateway-signing-key.json'), 'utf8')) as { d: string };
    const commandLines = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    });
    expect(commandLines.some((line) => line.includes('wrangler') && line.includes(`${MOVED.gateway}`))).toBe(true);
    expect(commandLines.filter((line) => line.includes(d))).toEqual([]);
  }, 60_000);
});
