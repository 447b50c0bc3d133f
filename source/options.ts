import type {OptionsInit} from 'got';

export type ClientAuthentication = 'client_secret_basic' | 'client_secret_post';

/**
Got options for the token endpoint's requests only. They are never merged into API requests, and API options never reach the token endpoint.
*/
export type TokenRequestOptions = Pick<OptionsInit, 'timeout' | 'retry' | 'https' | 'agent' | 'headers' | 'dnsLookup' | 'localAddress'>;

export type Clock = () => number;

/**
How a token source keeps its token. Times in seconds unless said otherwise.
*/
export type CacheOptions = {
	/** Stop using a token this long before it expires, capped at half its lifetime. Default: 60. */
	expiryMargin?: number;
	/** Lifetime of a token whose response has no `expires_in` and which is not a JWT with `exp`. Default: 300. */
	defaultLifetime?: number;
	/** Start one background refresh this long before the token stops being used, capped at half its usable lifetime; requests meanwhile go out at once with the current token. 0 turns it off. Default: 300. */
	refreshAhead?: number;
	/** After a failed token request, answer callers with that failure for this long before asking again; doubles with each failure in a row. 0 turns it off. Default: 1. */
	coolDown?: number;
	/** The longest cool-down. Default: 30. */
	maxCoolDown?: number;
	/** Milliseconds on a monotonic scale, for tests. Default: `performance.now`. */
	clock?: Clock;
};

export type OAuthConfig = CacheOptions & {
	/** The token endpoint (RFC 6749 §3.2). */
	tokenEndpoint: string | URL;
	clientId: string;
	clientSecret?: string;
	/** Joined with spaces when an array (RFC 6749 §3.3). */
	scope?: string | readonly string[];
	/** Auth0-style `audience` form parameter. */
	audience?: string;
	/** RFC 8707 resource indicators, sent as repeated `resource` parameters. */
	resource?: string | readonly string[];
	/** How the client authenticates at the token endpoint. Default: `'client_secret_basic'`. */
	clientAuthentication?: ClientAuthentication;
	/** Origins (or URLs, whose origin is taken) that may receive the token. Default: the instance's prefixUrl origin, or else the origin each request starts at. */
	origins?: ReadonlyArray<string | URL>;
	/** Got options for the token request: timeout, retry, https, agent, headers. */
	tokenRequest?: TokenRequestOptions;
};

export type NormalizedConfig = {
	tokenEndpoint: URL;
	clientId: string;
	clientSecret: string | undefined;
	scope: string | undefined;
	audience: string | undefined;
	resource: string[];
	clientAuthentication: ClientAuthentication;
	tokenRequest: TokenRequestOptions;
};

const clientAuthenticationMethods = new Set<string>(['client_secret_basic', 'client_secret_post']);

export class ConfigurationError extends TypeError {
	override name = 'ConfigurationError';

	constructor(option: string, problem: string) {
		super(`got-oauth: \`${option}\` ${problem}`);
	}
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function toUrl(option: string, value: unknown): URL {
	if (value instanceof URL) {
		return new URL(value.href);
	}

	if (!isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a URL or a string, got ${describe(value)}`);
	}

	try {
		return new URL(value);
	} catch {
		throw new ConfigurationError(option, 'is not an absolute URL');
	}
}

function describe(value: unknown): string {
	if (value === null) {
		return 'null';
	}

	return Array.isArray(value) ? 'an array' : typeof value;
}

function stringList(option: string, value: unknown): string[] {
	const list: unknown = typeof value === 'string' ? [value] : (value ?? []);
	if (!Array.isArray(list) || list.some(item => !isNonEmptyString(item))) {
		throw new ConfigurationError(option, `must be a non-empty string or an array of them, got ${describe(value)}`);
	}

	return list.map(String);
}

export function seconds(option: string, value: unknown, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw new ConfigurationError(option, 'must be a finite number of seconds, 0 or more');
	}

	return value;
}

export function normalizeOrigins(value: unknown): Set<string> | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (!Array.isArray(value)) {
		throw new ConfigurationError('origins', `must be an array of origins, got ${describe(value)}`);
	}

	return new Set(value.map(origin => toUrl('origins', origin).origin));
}

export function normalizeConfig(config: OAuthConfig): NormalizedConfig {
	if (typeof config !== 'object' || config === null) {
		throw new TypeError(`got-oauth: expected a configuration object or a TokenSource, got ${describe(config)}`);
	}

	const tokenEndpoint = toUrl('tokenEndpoint', config.tokenEndpoint);
	if (tokenEndpoint.protocol !== 'https:' && tokenEndpoint.protocol !== 'http:') {
		throw new ConfigurationError('tokenEndpoint', `must be an http: or https: URL, got ${tokenEndpoint.protocol}`);
	}

	if (!isNonEmptyString(config.clientId)) {
		throw new ConfigurationError('clientId', `must be a non-empty string, got ${describe(config.clientId)}`);
	}

	const clientAuthentication = config.clientAuthentication ?? 'client_secret_basic';
	if (!clientAuthenticationMethods.has(clientAuthentication)) {
		throw new ConfigurationError('clientAuthentication', `must be one of ${[...clientAuthenticationMethods].join(', ')}`);
	}

	if (!isNonEmptyString(config.clientSecret)) {
		throw new ConfigurationError('clientSecret', `is required for ${clientAuthentication}`);
	}

	if (config.audience !== undefined && !isNonEmptyString(config.audience)) {
		throw new ConfigurationError('audience', `must be a non-empty string, got ${describe(config.audience)}`);
	}

	const resource = stringList('resource', config.resource);
	for (const value of resource) {
		// RFC 8707 §2: an absolute URI without a fragment.
		if (toUrl('resource', value).hash !== '') {
			throw new ConfigurationError('resource', 'must not contain a fragment (RFC 8707 §2)');
		}
	}

	const scope = stringList('scope', config.scope);

	return {
		tokenEndpoint,
		clientId: config.clientId,
		clientSecret: config.clientSecret,
		scope: scope.length > 0 ? scope.join(' ') : undefined,
		audience: config.audience,
		resource,
		clientAuthentication,
		tokenRequest: config.tokenRequest ?? {},
	};
}
