import type {Response} from 'got';
import {checkFunction, optionNames} from '../checks.js';
import type {OriginOptions} from '../origin-policy.js';

/**
Decides whether a response means the API rejected the token.
*/
export type TokenRejectedPredicate = (response: Response) => boolean;

export type GotOptions = {
	/**
	Whether a response means the API rejected the token, so that it is replaced and the request retried once. RFC 6750 §3.1 says `401`; for an API that answers `403` to an expired token: `response => response.statusCode === 401 || response.statusCode === 403`.

	@default response => response.statusCode === 401
	@see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
	*/
	isTokenRejected?: TokenRejectedPredicate;
};

export const gotOptionNames = optionNames<GotOptions>()(['isTokenRejected']);

/**
What `oauthHooks()` takes besides the token source's configuration, in its second argument or in the configuration.
*/
export type HooksOptions = OriginOptions & GotOptions;

export const isUnauthorized: TokenRejectedPredicate = response => response.statusCode === 401;

export function checkTokenRejectedPredicate(value: unknown): TokenRejectedPredicate {
	return checkFunction<TokenRejectedPredicate>('isTokenRejected', value) ?? isUnauthorized;
}
