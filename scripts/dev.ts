/**
 * `npm start`: the gateway on http://127.0.0.1:8787 (wrangler dev) in front of a demo issuer (:8788) and
 * an echo origin (:8789), all on loopback, all stopped with Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { compileAndWrite, ROOT } from './compile-policies.ts';
import { demoAdminToken } from './demo/admin-token.ts';
import { demoGatewaySigningKey } from './demo/gateway-key.ts';
import { DEMO_HOST, GATEWAY_PORT, ISSUER_PORT, ORIGIN_PORT, startDemoIssuer, startEchoOrigin } from './demo/servers.ts';

if (!compileAndWrite()) process.exit(1);
const issuer = await startDemoIssuer();
const origin = await startEchoOrigin();
// The gateway signs its assertions with a development key it makes for itself (.demo/, git-ignored).
const signingKey = await demoGatewaySigningKey();
console.log(`demo issuer   http://${DEMO_HOST}:${ISSUER_PORT}/.well-known/jwks.json`);
console.log(`echo origin   http://${DEMO_HOST}:${ORIGIN_PORT}/`);

const wrangler = spawn(
  'wrangler',
  [
    'dev', '--ip', DEMO_HOST, '--port', String(GATEWAY_PORT), '--var', 'ALLOW_LOOPBACK_HTTP:true', '--var', `GATEWAY_SIGNING_KEY:${signingKey}`, '--show-interactive-dev-session=false',
    // One readable line per decision in this terminal (docs/logging.md); DEBUG_FINDINGS=true npm start adds x-debug-findings.
    '--var', 'LOG_FORMAT:line',
    // The admin endpoint of the emergency controls (docs/control.md): `npm run revoke` etc. read the same file.
    '--var', `GATEWAY_ADMIN_TOKEN:${demoAdminToken()}`,
    ...(process.env.DEBUG_FINDINGS === 'true' ? ['--var', 'DEBUG_FINDINGS:true'] : []),
  ],
  {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_NO_SKILLS_UPDATE_PROMPTS: 'true' },
  },
);
console.log(`gateway       http://${DEMO_HOST}:${GATEWAY_PORT}/  (starting; try the README walk-through)`);
console.log(`gateway keys  http://${DEMO_HOST}:${GATEWAY_PORT}/.well-known/gateway-jwks.json  (the echo origin verifies x-verified-assertion with them)`);

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
