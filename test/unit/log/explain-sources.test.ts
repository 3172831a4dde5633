import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';
import { KeyStore } from '../../../src/keys/key-store.ts';
import { explain } from '../../../src/log/explain.ts';
import { makeKey, nowSeconds, sign } from '../../helpers/keys.ts';

describe('explain on a route with token_sources', () => {
  it.each([
    [[{ kind: 'cookie', name: 'session' }], 'cookie:session'],
    [[{ kind: 'header', name: 'X-Api-Token', scheme: 'Token' }, { kind: 'authorization' }], 'header:x-api-token'],
    [[{ kind: 'websocket_protocol' }], 'websocket_protocol'],
    [[{ kind: 'query', name: 'access_token', unsafe: true }], 'query:access_token'],
  ])('judges the token as sent in the first source (%j), on an unsafe method too', async (sources, label) => {
    const key = await makeKey('ES256', 'k1');
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({
      issuers: { idp: { issuer: 'https://idp.example/', keys: [key.publicJwk], algorithms: ['ES256'] } },
      routes: { api: { path: '/api/*', issuers: ['idp'], audiences: ['api'], origin: 'https://origin.example', token_sources: sources } },
    }) }]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const now = nowSeconds();
    const token = await sign(key, { iss: 'https://idp.example/', aud: 'api', sub: 'u', iat: now, exp: now + 60 });
    const explained = await explain({ config: result.config, keys: new KeyStore({ allowLoopbackHttp: false }), method: 'POST', url: new URL('https://gw.example/api/x'), token, now });
    expect(explained.allowed).toBe(true);
    expect(explained.lines.join('\n')).toContain(`judged as sent in ${label}`);
    expect(explained.lines.join('\n')).not.toContain(token);
  });
});
