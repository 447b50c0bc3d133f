import type {AfterResponseHook, BeforeErrorHook, BeforeRequestHook, NormalizedOptions} from 'got';
import {TokenError, hideRequestDetails} from './errors.js';
import {normalizeOrigins, type OAuthConfig} from './options.js';
import {createTokenSource} from './create-token-source.js';
import {TokenSource} from './token-source.js';

export type HooksOptions = Pick<OAuthConfig, 'origins'>;

export type OAuthHooks = {
	readonly hooks: {
		readonly beforeRequest: BeforeRequestHook[];
		readonly afterResponse: AfterResponseHook[];
		readonly beforeError: BeforeErrorHook[];
	};
};

/** Per-request state in `options.context`, whose top-level keys got carries across retries and redirects. Never holds a secret. */
type RequestState = {
	/** Where the request started; the token goes to no other origin. Absent: not ours to authorize. */
	readonly origin?: string;
	/** Our one 401 retry has been made. */
	readonly retried?: boolean;
};

const contextKey = 'gotOAuth';
const notOurs: RequestState = Object.freeze({});
const bearerPrefix = 'Bearer ';

/** Mirrors got's own rule: a body that a first send consumes cannot be sent again. */
function isReplayable(body: unknown): boolean {
	return !(typeof body === 'object' && body !== null && (
		typeof (body as {pipe?: unknown}).pipe === 'function'
		|| body instanceof ReadableStream
		|| typeof (body as {next?: unknown}).next === 'function'
	));
}

let lastPrefixUrl = '';
let lastPrefixOrigin = '';

/** An instance's prefixUrl is the same string on every request: parse it once. */
function originOf(prefixUrl: string): string {
	if (prefixUrl !== lastPrefixUrl) {
		lastPrefixOrigin = new URL(prefixUrl).origin;
		lastPrefixUrl = prefixUrl;
	}

	return lastPrefixOrigin;
}

/** The bearer token this request carried, if any. */
function sentToken(options: Pick<NormalizedOptions, 'headers'>): string | undefined {
	const {authorization} = options.headers;
	return typeof authorization === 'string' && authorization.startsWith(bearerPrefix) ? authorization.slice(bearerPrefix.length) : undefined;
}

/**
got hooks that authorize every request with an OAuth 2.0 access token. Pass the result to `got.extend()`; every instance extended with the same result shares one token cache.
*/
export function oauthHooks(configOrSource: OAuthConfig | TokenSource, hooksOptions: HooksOptions = {}): OAuthHooks {
	const isSource = configOrSource instanceof TokenSource;
	const source = isSource ? configOrSource : createTokenSource(configOrSource);
	const allowedOrigins = normalizeOrigins(hooksOptions.origins ?? (isSource ? undefined : configOrSource.origins));

	function isOurs(options: NormalizedOptions, origin: string): boolean {
		// A caller's own `authorization` is theirs: no token, no 401 handling.
		if (options.headers.authorization !== undefined) {
			return false;
		}

		// Without a list, an instance's prefixUrl names its API; an absolute URL elsewhere is not it.
		return allowedOrigins === undefined
			? options.prefixUrl === '' || originOf(options.prefixUrl) === origin
			: allowedOrigins.has(origin);
	}

	// The header value for the current token, built once per token rather than once per request.
	let headerToken = '';
	let header = '';
	const bearer = (token: string): string => {
		if (token !== headerToken) {
			headerToken = token;
			header = bearerPrefix + token;
		}

		return header;
	};

	async function attachAfterFetch(options: NormalizedOptions): Promise<void> {
		try {
			options.headers.authorization = bearer(await source.getToken({signal: options.signal}));
		} catch (error) {
			throw error instanceof TokenError ? error.forRequest(options) : error;
		}
	}

	// Synchronous while a token is cached: this runs on every request, and a promise per request costs.
	// eslint-disable-next-line @typescript-eslint/promise-function-async
	const beforeRequest: BeforeRequestHook = options => {
		const {origin} = options.url!;
		let state = options.context[contextKey] as RequestState | undefined;
		if (state === undefined) {
			state = isOurs(options, origin) ? {origin} : notOurs;
			options.context[contextKey] = state;
		}

		if (state.origin === undefined) {
			return;
		}

		// got runs this hook again on each redirect hop, after stripping `authorization` only for some hops.
		if (origin !== state.origin) {
			delete options.headers.authorization;
			return;
		}

		const token = source.usableToken();
		if (token === undefined) {
			return attachAfterFetch(options);
		}

		options.headers.authorization = bearer(token);
	};

	// The one 401 retry.
	const afterResponse: AfterResponseHook = (response, retryWithMergedOptions) => {
		if (response.statusCode !== 401) {
			return response;
		}

		const {options} = response.request;
		const state = options.context[contextKey] as RequestState | undefined;
		const token = sentToken(options);
		if (token === undefined || state?.origin === undefined || state.retried === true || !isReplayable(options.body)) {
			return response;
		}

		source.invalidate(token);
		// The flag, not retryCount, ends it: retryCount counts every kind of retry. preserveHooks lets the caller's own afterResponse hooks see the final response.
		return retryWithMergedOptions({context: {[contextKey]: {...state, retried: true}}, preserveHooks: true});
	};

	const beforeError: BeforeErrorHook = error => hideRequestDetails(error);

	return {hooks: {beforeRequest: [beforeRequest], afterResponse: [afterResponse], beforeError: [beforeError]}};
}
