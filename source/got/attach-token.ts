import type {BeforeRequestHook, NormalizedOptions} from 'got';
import {TokenError} from '../errors.js';
import type {TokenSource} from '../token-source/token-source.js';
import {installRequestFunction, unwrapRequest, type Authorization} from '../got-request/request-function.js';
import {notOurs, readRequestState, writeRequestState} from './request-state.js';

export type OriginRule = (options: NormalizedOptions, origin: string) => boolean;

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
One frozen state per origin, shared by every request to it: the first attempt of each request would otherwise make one.
*/
const states = new Map<string, {readonly origin: string}>();

/**
Most processes call one API: its state is at hand without hashing the origin again.
*/
let lastState: {readonly origin: string} | undefined;

function stateFor(origin: string): {readonly origin: string} {
	if (lastState?.origin === origin) {
		return lastState;
	}

	let state = states.get(origin);
	if (state === undefined) {
		state = Object.freeze({origin});
		states.set(origin, state);
	}

	lastState = state;
	return state;
}

/**
The origin this attempt may carry the token to, or `undefined` when it gets none: decided on the first attempt (the caller's own `authorization`, the origin rule), then the attempt's URL must still be at that origin.
*/
export function ourOrigin(options: NormalizedOptions, isOurs: OriginRule): string | undefined {
	// got has made the URL a URL object before any beforeRequest hook runs.
	const {origin} = options.url!;
	let state = readRequestState(options);
	if (state === undefined) {
		// got deletes `authorization: undefined` before the hooks run, but remembers it was set: the caller said "send none".
		const isCallersOwn = options.headers.authorization !== undefined || options.isHeaderExplicitlySet('authorization');
		state = !isCallersOwn && isOurs(options, origin) ? stateFor(origin) : notOurs;
		writeRequestState(options, state);
	}

	// A request that leaves elsewhere (a redirect, a hook's new URL) gets no token: a copied request function from an earlier attempt goes too.
	if (state === false || state.origin !== origin) {
		options.request = unwrapRequest(options.request);
		return undefined;
	}

	return origin;
}

/**
Wait for a token for this request, as long as the caller waits and its `timeout.request` allows. Its failures are `TokenError`s bound to the request.
*/
export async function waitForToken<Token>(options: NormalizedOptions, get: (signal: AbortSignal | undefined) => Promise<Token>): Promise<Token> {
	try {
		return await get(waitSignal(options));
	} catch (error) {
		throw error instanceof TokenError ? error.forRequest(options) : timeoutError(error, options);
	}
}

/**
The `beforeRequest` hook: decides on the first attempt whether the request is ours to authorize, then on every attempt lets the request function attach the token when the request leaves for that origin. got runs it again on each retry and redirect hop.
*/
export function attachToken(source: TokenSource, isOurs: OriginRule): BeforeRequestHook {
	// The header and reader for a token, made once per token rather than once per request.
	let last: Authorization & {token: string} = {token: '', header: '', read: () => ''};
	const install = (options: NormalizedOptions, origin: string, token: string): void => {
		if (token !== last.token) {
			last = {token, header: `Bearer ${token}`, read: () => token};
		}

		installRequestFunction(options, origin, last);
	};

	async function installAfterFetch(options: NormalizedOptions, origin: string): Promise<void> {
		install(options, origin, await waitForToken(options, async signal => source.getToken({signal})));
	}

	// Synchronous while a token is cached: this runs on every request, and a promise per request costs.
	// eslint-disable-next-line @typescript-eslint/promise-function-async
	return options => {
		const origin = ourOrigin(options, isOurs);
		if (origin === undefined) {
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
