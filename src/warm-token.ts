/**
 * The synthetic token of src/warm.ts: its header and claims, apart so that scripts/warm-keys.ts, which signs
 * them, reads them without the Worker's types. The token carries them base64url-encoded; kept as JSON, they
 * cost a third of their encoding in the bundle's gzip.
 */
export const WARM_NOW = 1_800_000_000;
export const WARM_HEADER = { alg: 'EdDSA', typ: 'at+jwt', kid: 'warm' };
export const WARM_CLAIMS = {
  iss: 'https://i.invalid',
  sub: 'warm',
  aud: 'https://a.invalid',
  app_id: 'warm',
  scope: 'read',
  roles: ['reader'],
  token_use: 'access',
  iat: WARM_NOW,
  exp: WARM_NOW + 600,
};
