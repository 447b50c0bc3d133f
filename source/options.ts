import type {KeyObject} from 'node:crypto';
import type {OptionsInit} from 'got';
import type {JWK} from 'jose';
import {ConfigurationError} from './errors.js';
import {normalizeSigningKey, type NormalizedSigningKey} from './signing-key.js';
import {describe, isNonEmptyString, isPlainObject, optionalString} from './validation.js';

export type ClientAuthentication =
	| 'client_secret_basic'
	| 'client_secret_post'
	| 'client_secret_jwt'
	| 'private_key_jwt'
	| 'tls_client_auth'
	| 'self_signed_tls_client_auth'
	| 'none';

export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the default type of a subject or actor token. */
export const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

export type GrantType = 'client_credentials' | 'refresh_token' | typeof jwtBearerGrant | typeof tokenExchangeGrant;

/** A token endpoint response as JSON (RFC 6749 §5.1). */
export type TokenEndpointResponse = Record<string, unknown>;

/** Form parameters; an array is sent as one parameter per value. */
export type FormParameters = Record<string, string | readonly string[]>;

export type CustomGrantContext = {
	/**
	POST `parameters` to the token endpoint with the configured client authentication, `extraParams`, and `scope`, `audience` and `resource` unless `parameters` names them. Resolves with the JSON response; an RFC 6749 §5.2 error response rejects with a `TokenError`.
	*/
	requestToken(parameters: FormParameters): Promise<TokenEndpointResponse>;
};

/** Gets a token by any other grant; what it returns is validated like any token response. */
export type CustomGrant = (context: CustomGrantContext) => TokenEndpointResponse | Promise<TokenEndpointResponse>;

/** A string, or a function called for a fresh one on every token request attempt. */
export type TokenValue = string | (() => string | Promise<string>);

/** A private key: a `KeyObject`, an unencrypted PEM string (PKCS#8, PKCS#1 or SEC1) or a private JWK. */
export type PrivateKeyInput = KeyObject | string | JWK;

/**
A private key, optionally with the JWS algorithm, the `kid` to put in the header, and the key's X.509 certificate (PEM), whose thumbprints then go in the header as `x5t` and `x5t#S256` (RFC 7515 §4.1.7, §4.1.8), as Microsoft Entra ID requires of certificate credentials.
*/
export type SigningKey = PrivateKeyInput | {key: PrivateKeyInput; alg?: string; kid?: string; certificate?: string};

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
	/** The token endpoint (RFC 6749 §3.2). Required unless `issuer` is given. */
	tokenEndpoint?: string | URL;
	/** The authorization server's issuer identifier: without `tokenEndpoint`, its RFC 8414 metadata names the token endpoint. */
	issuer?: string;
	clientId: string;
	clientSecret?: string;
	/** Signs `private_key_jwt` client assertions, and the grant assertion of the JWT bearer grant when `assertion` is not given. */
	privateKey?: SigningKey;
	/** How the client authenticates at the token endpoint. Default: chosen from the credentials given (and from the server's metadata with `issuer`). */
	clientAuthentication?: ClientAuthentication;
	/** Default: `'client_credentials'`. */
	grant?: GrantType | CustomGrant;
	/** The refresh token for the `refresh_token` grant; a rotated one replaces it. */
	refreshToken?: string;
	/** Called with each new refresh token the server rotates to, so it can be stored. */
	onRefreshToken?: (refreshToken: string) => void | Promise<void>;
	/** The JWT bearer grant's assertion, signed by you. Without it, `privateKey` signs one. */
	assertion?: TokenValue;
	/** Claims for the assertion `privateKey` signs for the JWT bearer grant, over the defaults (`iss` = `sub` = client id, `aud` = token endpoint). */
	assertionClaims?: Record<string, unknown>;
	/** RFC 8693 `subject_token`. */
	subjectToken?: TokenValue;
	/** Default: `urn:ietf:params:oauth:token-type:access_token`. */
	subjectTokenType?: string;
	/** RFC 8693 `actor_token`. */
	actorToken?: TokenValue;
	/** Default: `urn:ietf:params:oauth:token-type:access_token`. */
	actorTokenType?: string;
	/** RFC 8693 `requested_token_type`. */
	requestedTokenType?: string;
	/** Joined with spaces when an array (RFC 6749 §3.3). */
	scope?: string | readonly string[];
	/** Auth0-style (and RFC 8693) `audience` form parameter. */
	audience?: string;
	/** RFC 8707 resource indicators, sent as repeated `resource` parameters. */
	resource?: string | readonly string[];
	/** More form parameters for every token request, for providers with their own. */
	extraParams?: FormParameters;
	/** Allow `http:` token endpoints and issuers that are not loopback. Default: false. */
	allowInsecureRequests?: boolean;
	/** Origins (or URLs, whose origin is taken) that may receive the token. Default: the instance's prefixUrl origin, or else the origin each request starts at. */
	origins?: ReadonlyArray<string | URL>;
	/** Got options for the token request: timeout, retry, https, agent, headers. */
	tokenRequest?: TokenRequestOptions;
};

export type NormalizedGrant =
	| {readonly type: 'client_credentials'}
	| {readonly type: 'refresh_token'; readonly refreshToken: string; readonly onRefreshToken: ((refreshToken: string) => void | Promise<void>) | undefined}
	| {readonly type: typeof jwtBearerGrant; readonly assertion: TokenValue | undefined; readonly assertionClaims: Record<string, unknown>}
	| {
		readonly type: typeof tokenExchangeGrant;
		readonly subjectToken: TokenValue;
		readonly subjectTokenType: string;
		readonly actorToken: TokenValue | undefined;
		readonly actorTokenType: string | undefined;
		readonly requestedTokenType: string | undefined;
	}
	| {readonly type: 'custom'; readonly request: CustomGrant};

export type NormalizedConfig = {
	tokenEndpoint: URL | undefined;
	issuer: string | undefined;
	clientId: string;
	clientSecret: string | undefined;
	privateKey: NormalizedSigningKey | undefined;
	/** As configured, or chosen from the credentials when there is no discovery to choose; undefined: discovery chooses among `authenticationCandidates`. */
	clientAuthentication: ClientAuthentication | undefined;
	/** The methods the credentials allow, best first. */
	authenticationCandidates: ClientAuthentication[];
	/** `tokenRequest.https` holds a client certificate: RFC 8705's endpoint aliases apply. */
	hasClientCertificate: boolean;
	grant: NormalizedGrant;
	scope: string | undefined;
	audience: string | undefined;
	resource: string[];
	extraParams: Array<[string, string]>;
	/** `allowInsecureRequests` */
	isInsecureAllowed: boolean;
	tokenRequest: TokenRequestOptions;
};

const clientAuthenticationMethods = new Set<string>([
	'client_secret_basic',
	'client_secret_post',
	'client_secret_jwt',
	'private_key_jwt',
	'tls_client_auth',
	'self_signed_tls_client_auth',
	'none',
]);

export const secretMethods = new Set<ClientAuthentication>(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
export const tlsMethods = new Set<ClientAuthentication>(['tls_client_auth', 'self_signed_tls_client_auth']);

const grantTypes = new Set<string>(['client_credentials', 'refresh_token', jwtBearerGrant, tokenExchangeGrant]);

/** Form parameters got-oauth sets from its own options, and those options: `extraParams` must not fight them. */
const reservedParameters = new Map([
	['grant_type', 'grant'],
	['client_id', 'clientId'],
	['client_secret', 'clientSecret'],
	['client_assertion', 'clientAuthentication'],
	['client_assertion_type', 'clientAuthentication'],
	['scope', 'scope'],
	['audience', 'audience'],
	['resource', 'resource'],
	['refresh_token', 'refreshToken'],
	['assertion', 'assertion'],
	['subject_token', 'subjectToken'],
	['subject_token_type', 'subjectTokenType'],
	['actor_token', 'actorToken'],
	['actor_token_type', 'actorTokenType'],
	['requested_token_type', 'requestedTokenType'],
]);

/** Options that belong to one grant, and that grant. */
const grantOptions: Array<[keyof OAuthConfig, string]> = [
	['refreshToken', 'refresh_token'],
	['onRefreshToken', 'refresh_token'],
	['assertion', jwtBearerGrant],
	['assertionClaims', jwtBearerGrant],
	['subjectToken', tokenExchangeGrant],
	['subjectTokenType', tokenExchangeGrant],
	['actorToken', tokenExchangeGrant],
	['actorTokenType', tokenExchangeGrant],
	['requestedTokenType', tokenExchangeGrant],
];

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

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopback(url: URL): boolean {
	return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/v.test(url.hostname);
}

/**
Credentials travel to these URLs: `https:` only, but `http:` on loopback or when the configuration says so. Shared with discovery, which applies it to the endpoints that metadata names.
*/
export function insecureProblem(url: URL, isInsecureAllowed: boolean): string | undefined {
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		return `must be an http: or https: URL, got ${url.protocol}`;
	}

	return !isInsecureAllowed && url.protocol === 'http:' && !isLoopback(url)
		? 'must be an https: URL: http: is allowed only on loopback, or with `allowInsecureRequests: true` (RFC 6749 §3.2 requires TLS)'
		: undefined;
}

function endpointUrl(option: string, value: unknown, isInsecureAllowed: boolean): URL {
	const url = toUrl(option, value);
	const problem = insecureProblem(url, isInsecureAllowed);
	if (problem !== undefined) {
		throw new ConfigurationError(option, problem);
	}

	return url;
}

function normalizeIssuer(value: unknown, isInsecureAllowed: boolean): string {
	// RFC 8414 §3.3 compares the issuer as a string, so it is kept as given: a URL object would add a trailing slash.
	if (!isNonEmptyString(value)) {
		throw new ConfigurationError('issuer', `must be a string, got ${describe(value)}`);
	}

	const url = endpointUrl('issuer', value, isInsecureAllowed);
	if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
		throw new ConfigurationError('issuer', 'must have no query or fragment (RFC 8414 §2)');
	}

	return value;
}

function normalizeTokenValue(option: string, value: unknown): TokenValue {
	if (typeof value !== 'function' && !isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a non-empty string or a function returning one, got ${describe(value)}`);
	}

	return value as TokenValue;
}

function normalizeExtraParameters(value: unknown): Array<[string, string]> {
	if (value === undefined) {
		return [];
	}

	if (!isPlainObject(value)) {
		throw new ConfigurationError('extraParams', `must be an object of form parameters, got ${describe(value)}`);
	}

	const parameters: Array<[string, string]> = [];
	for (const [name, values] of Object.entries(value)) {
		const option = reservedParameters.get(name);
		if (option !== undefined) {
			throw new ConfigurationError(`extraParams.${name}`, `is set by got-oauth: use \`${option}\``);
		}

		const list: unknown = Array.isArray(values) ? values : [values];
		if (!Array.isArray(list) || list.some(item => typeof item !== 'string')) {
			throw new ConfigurationError(`extraParams.${name}`, `must be a string or an array of strings, got ${describe(values)}`);
		}

		for (const item of list as string[]) {
			parameters.push([name, item]);
		}
	}

	return parameters;
}

function normalizeGrant(config: OAuthConfig, hasPrivateKey: boolean): NormalizedGrant {
	const grant = config.grant ?? 'client_credentials';
	if (typeof grant !== 'function' && !grantTypes.has(grant)) {
		throw new ConfigurationError('grant', `must be one of ${[...grantTypes].join(', ')}, or a function`);
	}

	const type = typeof grant === 'function' ? 'custom' : grant;
	for (const [option, owner] of grantOptions) {
		if (owner !== type && config[option] !== undefined) {
			throw new ConfigurationError(option, `is only used with \`grant: '${owner}'\``);
		}
	}

	switch (type) {
		case 'refresh_token': {
			if (!isNonEmptyString(config.refreshToken)) {
				throw new ConfigurationError('refreshToken', `is required for the refresh_token grant, got ${describe(config.refreshToken)}`);
			}

			if (config.onRefreshToken !== undefined && typeof config.onRefreshToken !== 'function') {
				throw new ConfigurationError('onRefreshToken', `must be a function, got ${describe(config.onRefreshToken)}`);
			}

			return {type, refreshToken: config.refreshToken, onRefreshToken: config.onRefreshToken};
		}

		case jwtBearerGrant: {
			if (!hasPrivateKey && config.assertion === undefined) {
				throw new ConfigurationError('assertion', 'or `privateKey` to sign one is required for the JWT bearer grant (RFC 7523 §2.1)');
			}

			if (config.assertionClaims !== undefined && !isPlainObject(config.assertionClaims)) {
				throw new ConfigurationError('assertionClaims', `must be an object of JWT claims, got ${describe(config.assertionClaims)}`);
			}

			if (config.assertion !== undefined && config.assertionClaims !== undefined) {
				throw new ConfigurationError('assertionClaims', 'is for the assertion `privateKey` signs; it cannot change a given `assertion`');
			}

			return {
				type,
				assertion: config.assertion === undefined ? undefined : normalizeTokenValue('assertion', config.assertion),
				assertionClaims: config.assertionClaims ?? {},
			};
		}

		case tokenExchangeGrant: {
			if (config.subjectToken === undefined) {
				throw new ConfigurationError('subjectToken', 'is required for the token exchange grant (RFC 8693 §2.1)');
			}

			// RFC 8693 §2.1: an actor token type describes an actor token; alone it is a mistake.
			if (config.actorToken === undefined && config.actorTokenType !== undefined) {
				throw new ConfigurationError('actorTokenType', 'is only sent with an `actorToken` (RFC 8693 §2.1)');
			}

			const actorToken = config.actorToken === undefined ? undefined : normalizeTokenValue('actorToken', config.actorToken);

			return {
				type,
				subjectToken: normalizeTokenValue('subjectToken', config.subjectToken),
				subjectTokenType: optionalString('subjectTokenType', config.subjectTokenType) ?? accessTokenType,
				actorToken,
				// RFC 8693 §2.1: required with an actor token.
				actorTokenType: actorToken === undefined ? undefined : (optionalString('actorTokenType', config.actorTokenType) ?? accessTokenType),
				requestedTokenType: optionalString('requestedTokenType', config.requestedTokenType),
			};
		}

		case 'custom': {
			return {type, request: grant as CustomGrant};
		}

		case 'client_credentials': {
			return {type};
		}
	}
}

function hasClientCertificate(tokenRequest: TokenRequestOptions): boolean {
	const https = tokenRequest.https ?? {};
	return (https.certificate !== undefined && https.key !== undefined) || https.pfx !== undefined;
}

/**
The client authentication methods the given credentials allow, strongest first: an asymmetric key or certificate before a shared secret.
*/
function candidateMethods(config: OAuthConfig, grant: NormalizedGrant, hasCertificate: boolean): ClientAuthentication[] {
	const candidates: ClientAuthentication[] = [];
	// A key given to sign the JWT bearer grant's assertion is for the grant: RFC 7523 §2.1 makes client authentication optional there.
	const isKeyForGrant = grant.type === jwtBearerGrant && grant.assertion === undefined;
	if (!isKeyForGrant && config.privateKey !== undefined) {
		candidates.push('private_key_jwt');
	}

	if (hasCertificate) {
		candidates.push('tls_client_auth', 'self_signed_tls_client_auth');
	}

	if (config.clientSecret !== undefined) {
		candidates.push('client_secret_basic', 'client_secret_post', 'client_secret_jwt');
	}

	if (candidates.length === 0) {
		candidates.push('none');
	}

	return candidates;
}

function checkCredentials(config: OAuthConfig, method: ClientAuthentication, hasCertificate: boolean): void {
	if (secretMethods.has(method) && !isNonEmptyString(config.clientSecret)) {
		throw new ConfigurationError('clientSecret', `is required for ${method}`);
	}

	if (method === 'private_key_jwt' && config.privateKey === undefined) {
		throw new ConfigurationError('privateKey', 'is required for private_key_jwt (RFC 7523 §2.2)');
	}

	if (!hasCertificate && tlsMethods.has(method)) {
		throw new ConfigurationError('tokenRequest.https.certificate', `and \`tokenRequest.https.key\` (or \`tokenRequest.https.pfx\`) are required for ${method} (RFC 8705 §2)`);
	}
}

export function normalizeConfig(config: OAuthConfig): NormalizedConfig {
	if (typeof config !== 'object' || config === null) {
		throw new TypeError(`got-oauth: expected a configuration object or a TokenSource, got ${describe(config)}`);
	}

	if (config.allowInsecureRequests !== undefined && typeof config.allowInsecureRequests !== 'boolean') {
		throw new ConfigurationError('allowInsecureRequests', `must be a boolean, got ${describe(config.allowInsecureRequests)}`);
	}

	if (config.tokenEndpoint === undefined && config.issuer === undefined) {
		throw new ConfigurationError('tokenEndpoint', 'must be a URL or a string, or `issuer` given for discovery (RFC 8414)');
	}

	const isInsecureAllowed = config.allowInsecureRequests ?? false;
	const tokenEndpoint = config.tokenEndpoint === undefined ? undefined : endpointUrl('tokenEndpoint', config.tokenEndpoint, isInsecureAllowed);
	const issuer = config.issuer === undefined ? undefined : normalizeIssuer(config.issuer, isInsecureAllowed);

	if (!isNonEmptyString(config.clientId)) {
		throw new ConfigurationError('clientId', `must be a non-empty string, got ${describe(config.clientId)}`);
	}

	if (config.clientAuthentication !== undefined && !clientAuthenticationMethods.has(config.clientAuthentication)) {
		throw new ConfigurationError('clientAuthentication', `must be one of ${[...clientAuthenticationMethods].join(', ')}`);
	}

	if (config.clientSecret !== undefined && !isNonEmptyString(config.clientSecret)) {
		throw new ConfigurationError('clientSecret', `must be a non-empty string, got ${describe(config.clientSecret)}`);
	}

	const privateKey = config.privateKey === undefined ? undefined : normalizeSigningKey('privateKey', config.privateKey);
	const tokenRequest = config.tokenRequest ?? {};
	const hasCertificate = hasClientCertificate(tokenRequest);
	const grant = normalizeGrant(config, privateKey !== undefined);
	const authenticationCandidates = candidateMethods(config, grant, hasCertificate);

	let {clientAuthentication} = config;
	if (clientAuthentication === undefined && tokenEndpoint !== undefined) {
		// No metadata to choose from. Public clients say so with 'none', except under the JWT bearer grant, whose assertion is the credential.
		const [best] = authenticationCandidates;
		clientAuthentication = best === 'none' && grant.type !== jwtBearerGrant ? 'client_secret_basic' : best;
	}

	if (clientAuthentication !== undefined) {
		checkCredentials(config, clientAuthentication, hasCertificate);
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
		issuer,
		clientId: config.clientId,
		clientSecret: config.clientSecret,
		privateKey,
		clientAuthentication,
		authenticationCandidates,
		hasClientCertificate: hasCertificate,
		grant,
		scope: scope.length > 0 ? scope.join(' ') : undefined,
		audience: config.audience,
		resource,
		extraParams: normalizeExtraParameters(config.extraParams),
		isInsecureAllowed,
		tokenRequest,
	};
}
