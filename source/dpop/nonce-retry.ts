import type {AfterResponseHook, BeforeRedirectHook} from 'got';
import {publishDpopNonceRetry} from '../diagnostics/channels.js';
import type {SourceLabels} from '../diagnostics/identify.js';
import {readRequestState} from '../got/request-state.js';
import {isReplayable} from '../got/retry-on-401.js';
import {tokenSentWith} from '../got-request/request-function.js';
import {parseDpopChallenge} from './challenge.js';
import type {NonceCache} from './nonces.js';

/**
The `context` key of the flag that the one nonce retry has been made; top-level keys survive got's retries and redirects.
*/
const contextKey = 'gotOAuthDpop';

type NonceState = {readonly nonceRetried?: boolean};

/**
The `afterResponse` hook with DPoP: every response to a request with our proof may bring its origin's next nonce (RFC 9449 §8.2, §9), so steady traffic never pays a round trip to learn one. A `401` whose DPoP challenge is `use_dpop_nonce` (RFC 9449 §9) is sent once more, with the nonce it brought: once per request, apart from the one retry with a fresh token, so neither can loop.
*/
export function retryWithNonce(nonces: NonceCache, labels: SourceLabels): AfterResponseHook {
	return (response, retryWithMergedOptions) => {
		const {options} = response.request;
		const header = response.headers['dpop-nonce'];
		// Only an answer to a request that carried our token (and its proof) speaks for its origin's nonces.
		const requestState = header === undefined || tokenSentWith(options) === undefined ? undefined : readRequestState(options);
		const origin = requestState === undefined || requestState === false ? undefined : requestState.origin;
		if (origin === undefined || header === undefined || !nonces.learn(origin, header) || response.statusCode !== 401) {
			return response;
		}

		const state = options.context[contextKey] as NonceState | undefined;
		const isNonceRequest = parseDpopChallenge(response.headers['www-authenticate'])?.error === 'use_dpop_nonce';
		if (!isNonceRequest || state?.nonceRetried === true || !isReplayable(options.body)) {
			return response;
		}

		publishDpopNonceRetry(labels, 'resource-server', new URL(response.url));
		return retryWithMergedOptions({context: {[contextKey]: {nonceRetried: true} satisfies NonceState}, preserveHooks: true});
	};
}

/**
The `beforeRedirect` hook with DPoP: a redirect from the origin the request carries its proofs to may bring that origin's next nonce too.
*/
export function learnNonceOnRedirect(nonces: NonceCache): BeforeRedirectHook {
	return (options, response) => {
		const header = response.headers['dpop-nonce'];
		const state = header === undefined ? undefined : readRequestState(options);
		if (state !== undefined && state !== false && state.origin === new URL(response.url).origin) {
			nonces.learn(state.origin, header);
		}
	};
}
