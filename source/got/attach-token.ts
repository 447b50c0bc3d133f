import type {BeforeRequestHook, NormalizedOptions, Options} from 'got';
import {TokenError} from '../errors.js';
import type {TokenSource} from '../token-source/token-source.js';
import {installRequestFunction, unwrapRequest} from './request-function.js';
import {notOurs, readRequestState, writeRequestState} from './request-state.js';

type OriginRule = (options: NormalizedOptions, origin: string) => boolean;

/**
Tokens this instance's requests sent, by the options of the attempt that sent each: got makes new options for every retry and redirect hop.
*/
export type SentTokens = WeakMap<Options | NormalizedOptions, string>;

/**
A signal for the wait for a token: the caller's own, bounded by the request's own `timeout.request`.
*/
function waitSignal(options: NormalizedOptions): AbortSignal | undefined {
	const limit = options.timeout.request;
	if (limit === undefined) {
		return options.signal;
	}

	const timeout = AbortSignal.timeout(limit);
	return options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
}

/**
The `beforeRequest` hook: decides on the first attempt whether the request is ours to authorize, then on every attempt lets the request function attach the token when the request leaves for that origin. got runs it again on each retry and redirect hop.
*/
export function attachToken(source: TokenSource, isOurs: OriginRule, sent: SentTokens): BeforeRequestHook {
	// The header value for a token, built once per token rather than once per request.
	let lastToken = '';
	let lastHeader = '';
	const bearer = (token: string): string => {
		if (token !== lastToken) {
			lastToken = token;
			lastHeader = `Bearer ${token}`;
		}

		return lastHeader;
	};

	const install = (options: NormalizedOptions, origin: string, token: string): void => {
		installRequestFunction(options, origin, bearer(token), () => {
			sent.set(options, token);
		});
	};

	async function installAfterFetch(options: NormalizedOptions, origin: string): Promise<void> {
		let token: string;
		try {
			token = await source.getToken({signal: waitSignal(options)});
		} catch (error) {
			throw error instanceof TokenError ? error.forRequest(options) : timeoutError(error, options);
		}

		install(options, origin, token);
	}

	// Synchronous while a token is cached: this runs on every request, and a promise per request costs.
	// eslint-disable-next-line @typescript-eslint/promise-function-async
	return options => {
		// got has made the URL a URL object before any beforeRequest hook runs.
		const {origin} = options.url!;
		let state = readRequestState(options);
		if (state === undefined) {
			// got deletes `authorization: undefined` before the hooks run, but remembers it was set: the caller said "send none".
			const isCallersOwn = options.headers.authorization !== undefined || options.isHeaderExplicitlySet('authorization');
			state = !isCallersOwn && isOurs(options, origin) ? {origin} : notOurs;
			writeRequestState(options, state);
		}

		// A request that leaves elsewhere (a redirect, a hook's new URL) gets no token: a copied request function from an earlier attempt goes too.
		if (state === false || state.origin !== origin) {
			options.request = unwrapRequest(options.request);
			return;
		}

		const token = source.getTokenSync();
		if (token === undefined) {
			return installAfterFetch(options, origin);
		}

		install(options, origin, token);
	};
}

/**
The caller's own `timeout.request` ran out while it waited for a token: a `TokenError` that says so, with the timeout as its cause.
*/
function timeoutError(error: unknown, options: NormalizedOptions): unknown {
	const isOwnTimeout = (error as {name?: unknown} | undefined)?.name === 'TimeoutError' && options.signal?.aborted !== true;
	return isOwnTimeout ? new TokenError(`No access token within the request's \`timeout.request\` of ${options.timeout.request} ms; the token request goes on for other callers`, {cause: error}, options) : error;
}
