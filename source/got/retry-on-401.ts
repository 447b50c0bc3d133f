import type {AfterResponseHook} from 'got';
import type {TokenSource} from '../token-source/token-source.js';
import {sentToken} from './bearer.js';
import {readRequestState, retryContext} from './request-state.js';

/**
Mirrors got's own rule: a body that a first send consumes cannot be sent again.
*/
function isReplayable(body: unknown): boolean {
	return !(typeof body === 'object' && body !== null && (
		typeof (body as {pipe?: unknown}).pipe === 'function'
		|| body instanceof ReadableStream
		|| typeof (body as {next?: unknown}).next === 'function'
	));
}

/**
The `afterResponse` hook: on a 401 to a request that carried our token, forget that token (only if it is still the current one) and send the request once more with a fresh one.
*/
export function retryOn401(source: TokenSource): AfterResponseHook {
	return (response, retryWithMergedOptions) => {
		const {options} = response.request;
		if (response.statusCode !== 401) {
			if (source.isAwaitingAcceptance) {
				const token = sentToken(options);
				if (token !== undefined) {
					source.accepted(token);
				}
			}

			return response;
		}

		const state = readRequestState(options);
		const token = sentToken(options);
		if (token === undefined || state?.origin === undefined || state.retried === true || !isReplayable(options.body)) {
			return response;
		}

		// A replacement the API rejected too is kept for a while: sending it again would only be rejected again.
		// The flag, not retryCount, ends it: retryCount counts every kind of retry. preserveHooks lets the caller's own afterResponse hooks see the final response.
		return source.rejected(token) ? retryWithMergedOptions({context: retryContext(state), preserveHooks: true}) : response;
	};
}
