/**
 * `npm run -s token -- [flags]`: prints a token signed by the demo issuer's key, and nothing else on stdout.
 *   --app ID  --sub ID (demo-user)  --aud AUD (https://api.example.test)  --iss ISS (the demo issuer)
 *   --scope "a b"  --ttl SECONDS (300; negative: a token the gateway refuses as expired, see below)
 *   --alg RS256|ES256|EdDSA (RS256)
 *   --claim key=value (repeatable; the value is read as JSON when it parses, else as a string)
 */
import { SignJWT } from 'jose';
import { DEFAULT_CLOCK_SKEW_SECONDS } from '../src/config/constants.ts';
import { parseCli, usageError } from './cli.ts';
import { DEMO_ALGORITHMS, demoSigningKey, type DemoAlgorithm } from './demo/keys.ts';
import { DEMO_AUDIENCE, DEMO_ISSUER } from './demo/servers.ts';

function fail(message: string): never {
  return usageError('token', message);
}

/** parseArgs reads "-60" as an option: join a negative number to the flag before it, so `--ttl -60` works as documented. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

const { values } = parseCli('token', {
  args: joinNegativeValues(process.argv.slice(2)),
  options: {
    app: { type: 'string' },
    sub: { type: 'string', default: 'demo-user' },
    aud: { type: 'string', default: DEMO_AUDIENCE },
    iss: { type: 'string', default: DEMO_ISSUER },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '300' },
    alg: { type: 'string', default: 'RS256' },
    claim: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});

const ttl = Number(values.ttl);
if (!Number.isInteger(ttl)) fail(`--ttl must be a whole number of seconds, got "${values.ttl}"`);
if (!DEMO_ALGORITHMS.includes(values.alg as DemoAlgorithm)) fail(`--alg must be one of ${DEMO_ALGORITHMS.join(', ')}`);

const now = Math.floor(Date.now() / 1000);
// The gateway forgives a clock skew (60 s unless a policy says otherwise): a negative TTL is counted beyond it,
// so `--ttl -30` expired 30 s too long ago to be forgiven, and the gateway refuses it (finding "expired").
const exp = ttl >= 0 ? now + ttl : now + ttl - DEFAULT_CLOCK_SKEW_SECONDS;
// An expired token was issued before it expired: back-date iat so that only exp is wrong with it.
const iat = ttl > 0 ? now : exp - 300;

const claims: Record<string, unknown> = { sub: values.sub };
if (values.app !== undefined) claims.app_id = values.app;
if (values.scope !== undefined) claims.scope = values.scope;
for (const pair of values.claim) {
  const eq = pair.indexOf('=');
  if (eq <= 0) fail(`--claim takes key=value, got "${pair}"`);
  const raw = pair.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself.
  }
  claims[pair.slice(0, eq)] = value;
}

const { kid, key } = await demoSigningKey(values.alg as DemoAlgorithm);
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: values.alg, kid, typ: 'at+jwt' })
  .setIssuer(values.iss)
  .setAudience(values.aud)
  .setIssuedAt(iat)
  .setExpirationTime(exp)
  .setJti(crypto.randomUUID())
  .sign(key);
process.stdout.write(token + '\n');
