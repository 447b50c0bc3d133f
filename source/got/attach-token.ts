import type {BeforeRequestHook, NormalizedOptions} from 'got';
import {TokenError} from '../errors.js';
import type {TokenSource} from '../token-source/token-source.js';
import {bearerHeader} from './bearer.js';
import {notOurs, readRequestState, writeRequestState} from './request-state.js';

/**
The instance's own origin rule: is a request to `origin` one to authorize?
*/
type OriginRule = (options: NormalizedOptions, origin: string) => boolean;

/**
The `beforeRequest` hook: the token on every request to an allowed origin, and on no other. got runs it again on each retry and redirect hop.
*/
export function attachToken(source: TokenSource, isOurs: OriginRule): BeforeRequestHook {
	const bearer = bearerHeader();

	async function attachAfterFetch(options: NormalizedOptions): Promise<void> {
		try {
			options.headers.authorization = bearer(await source.getToken({signal: options.signal}));
		} catch (error) {
			throw error instanceof TokenError ? error.forRequest(options) : error;
		}
	}

	// Synchronous while a token is cached: this runs on every request, and a promise per request costs.
	// eslint-disable-next-line @typescript-eslint/promise-function-async
	return options => {
		// got has made the URL a URL object before any beforeRequest hook runs.
		const {origin} = options.url!;
		let state = readRequestState(options);
		if (state === undefined) {
			state = isOurs(options, origin) ? {origin} : notOurs;
			writeRequestState(options, state);
		}

		if (state.origin === undefined) {
			return;
		}

		// got runs this hook again on each redirect hop, after stripping `authorization` only for some hops.
		if (origin !== state.origin) {
			delete options.headers.authorization;
			return;
		}

		const token = source.getTokenSync();
		if (token === undefined) {
			return attachAfterFetch(options);
		}

		options.headers.authorization = bearer(token);
	};
}
