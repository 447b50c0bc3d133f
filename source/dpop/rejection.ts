import {HTTPError, type BeforeErrorHook} from 'got';
import {safeServerText} from '../errors.js';
import {tokenSentWith} from '../got-request/request-function.js';
import type {TokenRejectedPredicate} from '../got/options.js';
import {parseDpopChallenge} from './challenge.js';

/**
The DPoP challenge of an API's answer, on the `HTTPError` as `dpopError`.
*/
export type DpopErrorDetails = {
	/**
	RFC 9449 §7.1, §12.2: `invalid_dpop_proof`, `use_dpop_nonce`, `invalid_token`, …
	*/
	readonly error: string;
	/**
	The challenge's `error_description`, cleaned: no control characters, at most 300 characters, never the access token.
	*/
	readonly errorDescription?: string;
};

/**
Rejections of the proof, not of the token (RFC 9449 §7.1, §9): a fresh token would not help, so the `401` is not one the token layer answers with a new token. `use_dpop_nonce` has had its own retry by then.
*/
const proofErrors = new Set(['invalid_dpop_proof', 'use_dpop_nonce']);

export function unlessProofRejected(isTokenRejected: TokenRejectedPredicate): TokenRejectedPredicate {
	return response => isTokenRejected(response) && !proofErrors.has(parseDpopChallenge(response.headers['www-authenticate'])?.error ?? '');
}

/**
The `beforeError` hook with DPoP: an API's DPoP challenge (`invalid_dpop_proof`, or a `use_dpop_nonce` its one retry did not satisfy) is the 401 it is, with the challenge's error in its message and as `dpopError`.
*/
export const explainDpopRejection: BeforeErrorHook = error => {
	const challenge = error instanceof HTTPError ? parseDpopChallenge(error.response.headers['www-authenticate']) : undefined;
	if (challenge?.error === undefined) {
		return error;
	}

	const token = tokenSentWith(error.options);
	const clean = (text: string) => safeServerText(text, token === undefined ? [] : [token]) ?? '';
	const details: DpopErrorDetails = {
		error: clean(challenge.error),
		...(challenge.errorDescription !== undefined && {errorDescription: clean(challenge.errorDescription)}),
	};
	error.message += ` (DPoP: ${details.error}${details.errorDescription === undefined ? '' : `: ${details.errorDescription}`})`;
	Object.defineProperty(error, 'dpopError', {value: details, enumerable: true});
	return error;
};
