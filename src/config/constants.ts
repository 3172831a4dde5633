/**
 * Every magic number of the gateway, each with the reason it has the value it has.
 * Policies may override some of them per issuer or route; these are the defaults and the hard caps.
 */

/** RFC 8725 suggests bounding input before parsing; real access tokens are 1-3 KiB, 8 KiB leaves room for fat claims. */
export const MAX_TOKEN_BYTES = 8192;
/** A JOSE header carries alg, typ, kid: a few dozen bytes. 1 KiB bounds a hostile header long before JSON.parse. */
export const MAX_HEADER_BYTES = 1024;
/** kid is an opaque lookup key; issuers use UUIDs or thumbprints (<= 64 chars). 256 keeps it out of log-injection range. */
export const MAX_KID_LENGTH = 256;
/**
 * Distinct JOSE headers whose judgment the shape gate keeps (src/token/shape.ts). An issuer uses one header
 * per signing key and typ, so a few dozen cover every issuer; at most 128 x ~1.4 KiB of header text.
 */
export const JUDGED_HEADERS_MAX_ENTRIES = 128;
/** JSON containers nested in a header or payload: real claims nest 2-4 deep (Keycloak realm_access.roles); 16 refuses nesting bombs. */
export const MAX_JSON_DEPTH = 16;

/** RFC 7519 NumericDate upper bound we accept: 9999-12-31T23:59:59Z. Anything larger is abuse, not a date. */
export const MAX_NUMERIC_DATE = 253402300799;
/** Issuers and gateways disagree on clocks; 60 s is the default of Envoy, jose and most IdP guidance. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** Access tokens live minutes to a day; a token valid for longer than this is refused unless the issuer policy raises it. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** The namespace of the headers the gateway hands the origin; every client-sent header in it is removed. */
export const DEFAULT_IDENTITY_HEADER_PREFIX = 'x-verified-';
/** One claim header larger than this is refused at compile time or truncated at runtime; origins and proxies cap headers near 8 KiB in total. */
export const MAX_IDENTITY_HEADER_VALUE_BYTES = 2048;
/** RFC 6750 realm when the policy names none. */
export const DEFAULT_REALM = 'api';

/** JWKS fetches: an issuer that has not answered in 5 s is down for this request (jose uses the same default). */
export const JWKS_FETCH_TIMEOUT_MS = 5000;
/** A JWKS is a few KiB; 64 KiB refuses hostile or misconfigured endpoints without reading them whole. */
export const MAX_JWKS_BYTES = 64 * 1024;
/** Real issuers publish 1-10 keys; 100 bounds the import work a hostile JWKS can cause. */
export const MAX_JWKS_KEYS = 100;
/** When the issuer sends no Cache-Control max-age, keep its keys this long (jose's default cacheMaxAge). */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 600;
/** Clamp for the issuer's max-age: below 60 s we would hammer the issuer, above 1 day rotation stalls. */
export const MIN_JWKS_MAX_AGE_SECONDS = 60;
export const MAX_JWKS_MAX_AGE_SECONDS = 24 * 60 * 60;
/** An unknown kid triggers at most one refresh per issuer per this many seconds (jose's cooldownDuration). */
export const UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS = 30;
/** Refresh a key set in the background once this fraction of its lifetime has passed, so requests never wait for expiry. */
export const KEY_REFRESH_AHEAD_FRACTION = 0.8;
/**
 * The last good key set keeps verifying this long past its expiry while the issuer is down, then the gateway
 * fails closed. One hour is the common access-token lifetime: past it, hardly a token signed before the outage
 * is still valid, while a key the issuer retired (perhaps compromised) must not verify for much longer.
 */
export const DEFAULT_STALE_IF_ERROR_SECONDS = 60 * 60;
/** Imported CryptoKeys kept per isolate (LRU): ~1 KiB each, far below the 128 MB isolate limit, far above real key counts. */
export const MAX_IMPORTED_KEYS = 512;
/** Unknown kids remembered per isolate (LRU), so the same bogus kid never triggers a refresh twice for one key set. */
export const MAX_NEGATIVE_KIDS = 1024;
/** How long an unknown kid is remembered for one key set: 10 cooldowns; a new set forgets them at once. */
export const NEGATIVE_KID_TTL_SECONDS = 300;
/** A request that needs keys another request of this isolate is loading re-checks memory this often... */
export const KEY_LOAD_POLL_MS = 20;
/** ...for at most this long: discovery plus JWKS, each bounded by the fetch timeout, plus slack for the layers. */
export const KEY_LOAD_WAIT_MS = 2 * JWKS_FETCH_TIMEOUT_MS + 1000;
/**
 * While another request of this isolate loads an issuer's keys and no usable set exists, a request waits for
 * it at most this long, then answers 503 + Retry-After: a JWKS from the Cache API, KV or a healthy issuer lands
 * well within 1 s; past it the issuer is slow or down, and a fast 503 costs the isolate less than a pile of
 * waiting requests. The leader of a probe of an issuer known to be down, or with a stale set to serve, waits
 * no longer either (its fetch goes on in the background).
 */
export const KEY_PEER_WAIT_MS = 1000;
/**
 * Requests per issuer that may wait at once for a peer's load (per isolate); beyond it they are refused at once
 * (503). Each holds its request and a timer, a few KiB: 100 of them stay under 1 MiB of the isolate's 128 MB.
 */
export const MAX_KEY_WAITERS_PER_ISSUER = 100;
/** KV refuses an expirationTtl under 60 s. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;
/** Hex digits of SHA-256(issuer, key source) in stored key names: 64 bits tell a policy's sources apart with room to spare. */
export const DOC_NAME_HASH_HEX_DIGITS = 16;
/** The Cache API needs URLs as keys; this host is never fetched, it only names the gateway's cached key sets. */
export const KEY_CACHE_URL_BASE = 'https://keys.edge-jwt-gateway.invalid';

/** When keys cannot be had, clients are told to come back after this long. */
export const KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/** RSA moduli below 2048 bits are breakable (NIST SP 800-131A); 65537 is the only exponent issuers use. */
export const MIN_RSA_MODULUS_BITS = 2048;
export const REQUIRED_RSA_EXPONENT = 'AQAB';

/** An origin that has not sent response headers in 30 s is down for this request (Cloudflare's own proxy waits 100 s; APIs answer far sooner). */
export const DEFAULT_ORIGIN_TIMEOUT_MS = 30_000;
export const DEFAULT_ASSERTION_TTL_SECONDS = 60;
export const DEFAULT_GATEWAY_JWKS_PATH = '/.well-known/gateway-jwks.json';
/** Origins cache the gateway's key set this long; a new "next" key must be published at least this long before it signs. */
export const GATEWAY_JWKS_MAX_AGE_SECONDS = 300;
/** A client-sent request id is used only if it is this short and visible ASCII: it goes into headers, logs and jti. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output; shorter Worker secrets are refused at runtime. */
export const MIN_HMAC_SECRET_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const;

/** Evidence from an unverified token (iss, claim values) is cut to this many characters in the log: enough to recognise, too short to flood a log line. */
export const MAX_LOG_VALUE_CHARS = 200;
/** Arrays in logged evidence (aud, scopes) keep this many items; real tokens carry a handful. */
export const MAX_LOG_ARRAY_ITEMS = 20;
/** Token fingerprint and hashed subject: 16 hex digits (64 bits) of SHA-256, unique among any day's tokens, useless for recovering them. */
export const LOG_HASH_HEX_DIGITS = 16;

/** Verified-token cache per isolate: 10,000 distinct clients per isolate is far above what one isolate serves between evictions. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;
/**
 * And at most 4 MiB of token text (one byte per character: tokens are ASCII). With the decoded claims (at
 * most ~10x their JSON in V8 objects) the cache stays under ~44 MiB of the isolate's 128 MiB (BENCHMARKS.md).
 */
export const TOKEN_CACHE_MAX_TOKEN_BYTES = 4 * 1024 * 1024;

/**
 * Refused signatures per isolate (src/verify/token-cache.ts): a client replaying one bad token needs one
 * entry; a flood of distinct bad tokens gains nothing from any cache. Separate from the verified tokens, so
 * bad tokens can never push good ones out. 1,000 entries, at most 1 MiB of token text.
 */
export const REJECTED_TOKEN_CACHE_MAX_ENTRIES = 1_000;
export const REJECTED_TOKEN_CACHE_MAX_TOKEN_BYTES = 1024 * 1024;

/**
 * Reused assertions per isolate (settings.assertion.reuse_seconds): one entry per token, route and request
 * target seen within the reuse window. At most 4 MiB of text (keys, which hold the token, plus the
 * headers and the assertion): with the arrays around them, at most ~10 MiB (BENCHMARKS.md, Memory).
 */
export const ASSERTION_CACHE_MAX_ENTRIES = 4_096;
export const ASSERTION_CACHE_MAX_BYTES = 4 * 1024 * 1024;

/** A urlencoded form body is read and checked for access_token and _method (src/request/form-body.ts); API forms are a few KiB, 64 KiB bounds what is held. */
export const MAX_FORM_SCAN_BYTES = 64 * 1024;

/** Auth0's "Maximum Access Token Lifetime" for an API allows up to 30 days (machine-to-machine tokens are often that long); the auth0 preset's default cap. */
export const AUTH0_MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 30 * 24 * 60 * 60;
/** Entra's long-lived tokens with continuous access evaluation live 20-28 h; the entra presets' default cap. */
export const ENTRA_CAE_MAX_TOKEN_LIFETIME_SECONDS = 28 * 60 * 60;
/** A Cloudflare Access application token lives as long as the application's session: at most "1 month" (730h) in the dashboard. */
export const CLOUDFLARE_ACCESS_MAX_SESSION_SECONDS = 730 * 60 * 60;

/** The Kubernetes form of a bearer token in Sec-WebSocket-Protocol (browsers cannot set Authorization on a WebSocket); the token follows, base64url-encoded. */
export const WEBSOCKET_BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** Methods a cookie-borne token may use without a CSRF check (RFC 9110 9.2.1 safe methods); a WebSocket upgrade is checked all the same. */
export const CSRF_SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Emergency controls (docs/control.md). An isolate asks the deny list's Durable Object for a newer version at most this often, in the background... */
export const DENY_LIST_POLL_MS = 5_000;
/** ...and never judges a token with a list older than this (the documented propagation bound): past it, the request asks itself. */
export const DENY_LIST_BOUND_MS = 10_000;
/** The store unreachable: the last list keeps serving this long after it was last confirmed, then each issuer fails closed (or open, if so configured). One minute rides out a blip, not an outage. */
export const DENY_LIST_MAX_STALE_MS = 60_000;
/** After a failed ask, an isolate waits this long before asking again: a down store costs at most one attempt a second per isolate. */
export const DENY_LIST_RETRY_MS = 1_000;
/** An ask of the store that has not answered in this long has failed: a request never waits longer for the deny list. */
export const DENY_LIST_PULL_TIMEOUT_MS = 2_000;
/** While another request of this isolate asks the store, a request past the bound re-checks memory this often. */
export const DENY_LIST_POLL_PEER_MS = 10;
/** An entry lives this long unless the operator says otherwise: longer than any token a preset allows (Cloudflare Access, 730 h). */
export const DENY_ENTRY_DEFAULT_TTL_SECONDS = 31 * 24 * 60 * 60;
/** And at most a year: a deny list is for emergencies; a key distrusted for good is removed from the issuer's set. */
export const DENY_ENTRY_MAX_TTL_SECONDS = 366 * 24 * 60 * 60;
/** Entries held at once: the list travels whole to every isolate (~200 bytes an entry, ~1 MiB at most). */
export const DENY_LIST_MAX_ENTRIES = 5_000;
/** jti, sub, kid, issuer id, app, who and why: a few dozen characters in practice; 256 bounds what an operator can store. */
export const MAX_DENY_VALUE_CHARS = 256;
/** Change records the store keeps (who, what, when); older ones are in the Worker's logs. */
export const CONTROL_LOG_MAX_RECORDS = 1_000;
/** Where the admin endpoint answers when GATEWAY_ADMIN_TOKEN is set (GATEWAY_ADMIN_PATH overrides): a path no API uses. */
export const DEFAULT_ADMIN_PATH = '/.gateway/control';
/** An admin request body is one small JSON object. */
export const MAX_ADMIN_BODY_BYTES = 8 * 1024;

/**
 * A tenant list kept in KV (an issuer's `tenants.kv`) is re-read in the background at most this often per
 * isolate: a tenant added or removed is seen within this plus KV's own propagation (up to 60 s), and a busy
 * isolate reads KV twice a minute, not per request.
 */
export const TENANT_LIST_REFRESH_SECONDS = 30;
/** A KV tenant list larger than this is refused (the last good list stays): 1 MiB holds ~25,000 GUIDs, far above any one platform's list. */
export const MAX_TENANT_LIST_BYTES = 1024 * 1024;

/** Access-Control-Max-Age of the preflights the gateway answers by default: 10 minutes, so a policy change reaches browsers soon (Chromium caps it at 2 h anyway). */
export const DEFAULT_CORS_MAX_AGE_SECONDS = 600;
