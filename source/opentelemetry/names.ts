/*
The names `instrumentOAuth()` records under: public API, stable across releases. Metric and attribute names follow the OpenTelemetry naming rules; HTTP ones are the semantic conventions' own.
*/

/**
Every metric, with its unit.
*/
export const metricNames = {
	/**
	Counter, `{request}`: token requests to the token endpoint (got's retries of one are one), by `got_oauth.outcome`.
	*/
	tokenRequests: 'got_oauth.token.requests',
	/**
	Histogram, `s`: how long each token request took, retries included.
	*/
	tokenRequestDuration: 'got_oauth.token.request.duration',
	/**
	Asynchronous counter, `{lookup}`: callers served from the cache (`got_oauth.cache.result` `hit`) or waiting for a token (`miss`).
	*/
	cacheLookups: 'got_oauth.cache.lookups',
	/**
	Counter, `{retry}`: API requests sent again with a new token after the API rejected one.
	*/
	apiRetries: 'got_oauth.api.retries',
	/**
	Counter, `{rejection}`: callers answered with the last failure during the cool-down, without a token request.
	*/
	coolDownRejections: 'got_oauth.cool_down.rejections',
	/**
	Counter, `{failure}`: shared store calls that failed or timed out; the process then used its own token.
	*/
	storeFailures: 'got_oauth.store.failures',
	/**
	Counter, `{retry}`: requests sent again with a DPoP nonce the server asked for.
	*/
	dpopNonceRetries: 'got_oauth.dpop.nonce_retries',
} as const;

/**
Attributes got-oauth adds beside the semantic conventions' `server.address`, `server.port`, `url.full`, `http.request.method`, `http.response.status_code` and `error.type`.
*/
export const attributeNames = {
	clientId: 'got_oauth.client_id',
	grantType: 'got_oauth.grant_type',
	/**
	`success` or `failure`.
	*/
	outcome: 'got_oauth.outcome',
	/**
	`hit` or `miss`.
	*/
	cacheResult: 'got_oauth.cache.result',
	/**
	HTTP attempts a token request made.
	*/
	attempts: 'got_oauth.attempts',
	/**
	Seconds, the token response's `expires_in`.
	*/
	expiresIn: 'got_oauth.token.expires_in',
	/**
	The first 8 hex characters of the token's SHA-256.
	*/
	tokenFingerprint: 'got_oauth.token.fingerprint',
	/**
	The store call that failed: `get`, `set`, `acquireLock`, ….
	*/
	storeOperation: 'got_oauth.store.operation',
	/**
	`authorization-server` or `resource-server`.
	*/
	dpopServer: 'got_oauth.dpop.server',
} as const;

/**
The span for each token request.
*/
export const tokenRequestSpanName = 'got-oauth token request';

/**
The instrumentation scope of the meter and the tracer.
*/
export const instrumentationScope = 'got-oauth';
