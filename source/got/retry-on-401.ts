import type {AfterResponseHook, Response} from 'got';
import type {TokenSource} from '../token-source/token-source.js';
import type {SentTokens} from './attach-token.js';
import {readRequestState, retryContext, writeRequestState} from './request-state.js';

/**
Decides whether a response means the API rejected the token. RFC 6750 §3.1 says `401`; some APIs answer `403` for an expired token.
*/
export type TokenRejectedPredicate = (response: Response) => boolean;

export const isUnauthorized: TokenRejectedPredicate = response => response.statusCode === 401;

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
export function retryOn401(source: TokenSource, sent: SentTokens, isTokenRejected: TokenRejectedPredicate): AfterResponseHook {
	return (response, retryWithMergedOptions) => {
		const {options} = response.request;
		const token = sent.get(options);
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
		if (state === false || state?.origin === undefined || !isReplayable(options.body)) {
			return response;
		}

		// A fresh token rejected too: the caller learns so from the error (see the `beforeError` hook).
		if (state.retried === true || !source.rejected(token)) {
			writeRequestState(options, {...state, freshTokenRejected: true});
			return response;
		}

		// The flag, not retryCount, ends it: retryCount counts every kind of retry. preserveHooks lets the caller's own afterResponse hooks see the final response.
		return retryWithMergedOptions({context: retryContext(state), preserveHooks: true});
	};
}
