import type {AfterResponseHook} from 'got';
import {publishApiRetry} from '../diagnostics/channels.js';
import {tokenSentWith} from '../got-request/request-function.js';
import type {TokenSource} from '../token-source/token-source.js';
import type {TokenRejectedPredicate} from './options.js';
import {readRequestState, retryContext, writeRequestState} from './request-state.js';

/**
Mirrors got's own rule: a body that a first send consumes cannot be sent again.
*/
export function isReplayable(body: unknown): boolean {
	return !(typeof body === 'object' && body !== null && (
		typeof (body as {pipe?: unknown}).pipe === 'function'
		|| body instanceof ReadableStream
		|| typeof (body as {next?: unknown}).next === 'function'
		|| typeof (body as {[Symbol.asyncIterator]?: unknown})[Symbol.asyncIterator] === 'function'
	));
}

/**
The `afterResponse` hook: when the API rejects a request that carried our token, forget that token (only if it is still the current one) and send the request once more with a fresh one.
*/
export function retryOn401(source: TokenSource, isTokenRejected: TokenRejectedPredicate): AfterResponseHook {
	return (response, retryWithMergedOptions) => {
		const {options} = response.request;
		const token = tokenSentWith(options);
		if (token === undefined) {
			return response;
		}

		if (!isTokenRejected(response)) {
			if (source.isAwaitingAcceptance) {
				source.accepted(token);
			}

			return response;
		}

		const state = readRequestState(options);
		if (state === false || state?.origin === undefined) {
			return response;
		}

		// Rejected: the next request gets another token, even when this one cannot be sent again. A fresh token the API rejected too is kept for a while: the caller learns so from the error (see the `beforeError` hook).
		const canGetAnother = source.rejected(token);
		if (!canGetAnother || state.retried === true) {
			writeRequestState(options, {...state, freshTokenRejected: true});
			return response;
		}

		publishApiRetry(source, options, response.statusCode, token);
		// The flag, not retryCount, ends it: retryCount counts every kind of retry. preserveHooks lets the caller's own afterResponse hooks see the final response.
		return isReplayable(options.body) ? retryWithMergedOptions({context: retryContext(state), preserveHooks: true}) : response;
	};
}
