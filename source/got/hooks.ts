import {
	HTTPError,
	type AfterResponseHook,
	type BeforeErrorHook,
	type BeforeRedirectHook,
	type BeforeRequestHook,
	type NormalizedOptions,
} from 'got';
import type {OAuthConfig} from '../configuration/normalize.js';
import {attachDpopToken, type SentProofs} from '../dpop/attach-dpop-token.js';
import {learnNonceOnRedirect, retryWithNonce} from '../dpop/nonce-retry.js';
import {dpopSettingsOf} from '../dpop/registry.js';
import {explainDpopRejection, unlessProofRejected} from '../dpop/rejection.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {checkOrigins, createOriginPolicy, type OriginOptions} from '../origin-policy.js';
import {createTokenSource} from '../token-source/create-token-source.js';
import {TokenSource} from '../token-source/token-source.js';
import {attachToken, type SentTokens} from './attach-token.js';
import {readRequestState} from './request-state.js';
import {isUnauthorized, retryOn401, type TokenRejectedPredicate} from './retry-on-401.js';

export type HooksOptions = OriginOptions & {
	/**
	Whether a response means the API rejected the token, so that it is replaced and the request retried once. RFC 6750 §3.1 says `401`; for an API that answers `403` to an expired token: `response => response.statusCode === 401 || response.statusCode === 403`.

	@default response => response.statusCode === 401
	*/
	isTokenRejected?: TokenRejectedPredicate;
};

export type OAuthHooks = {
	readonly hooks: {
		readonly beforeRequest: BeforeRequestHook[];
		readonly afterResponse: AfterResponseHook[];
		readonly beforeError: BeforeErrorHook[];
		/**
		With DPoP only.
		*/
		readonly beforeRedirect?: BeforeRedirectHook[];
	};
};

/**
The error for a rejection that no fresh token can fix says that one was tried: the usual cause is a token for another API (a wrong `audience` or `resource`).
*/
const explainRejection: BeforeErrorHook = error => {
	const state = error instanceof HTTPError ? readRequestState(error.options) : undefined;
	if (state !== undefined && state !== false && state.freshTokenRejected === true) {
		error.message += ' (got-oauth had already tried a fresh access token; check that the token is for this API: `audience`, `resource`, `scope`)';
		Object.defineProperty(error, 'freshTokenRejected', {value: true, enumerable: true});
	}

	return error;
};

/**
got hooks that authorize every request with an OAuth 2.0 access token. Pass the result to `got.extend()`; every instance extended with the same result shares one token cache and one origin rule.
*/
export function oauthHooks(configOrSource: OAuthConfig | TokenSource, hooksOptions: HooksOptions = {}): OAuthHooks {
	if (typeof configOrSource !== 'object' || configOrSource === null) {
		throw new ConfigurationError('config', `must be a configuration object or a TokenSource, got ${describeValue(configOrSource)}`);
	}

	const isSource = configOrSource instanceof TokenSource;
	const source = isSource ? configOrSource : createTokenSource(configOrSource);
	const options: HooksOptions = {...(!isSource && configOrSource), ...hooksOptions};
	const policy = createOriginPolicy(checkOrigins(options.origins));
	const isTokenRejected = options.isTokenRejected ?? isUnauthorized;
	if (typeof isTokenRejected !== 'function') {
		throw new ConfigurationError('isTokenRejected', `must be a function, got ${describeValue(isTokenRejected)}`);
	}

	const isOurs = (requestOptions: NormalizedOptions, origin: string): boolean =>
		policy.allows(origin, () => requestOptions.prefixUrl === '' ? undefined : new URL(requestOptions.prefixUrl).origin);
	const sent: SentTokens = new WeakMap();
	const dpop = dpopSettingsOf(source);
	if (dpop !== undefined) {
		const proofs: SentProofs = new WeakMap();
		return {
			hooks: {
				beforeRequest: [attachDpopToken(source, isOurs, sent, {proofs, nonces: dpop.nonces})],
				afterResponse: [retryWithNonce(proofs, dpop.nonces), retryOn401(source, sent, unlessProofRejected(isTokenRejected))],
				beforeError: [explainRejection, explainDpopRejection(sent)],
				beforeRedirect: [learnNonceOnRedirect(dpop.nonces)],
			},
		};
	}

	return {
		hooks: {
			beforeRequest: [attachToken(source, isOurs, sent)],
			afterResponse: [retryOn401(source, sent, isTokenRejected)],
			beforeError: [explainRejection],
		},
	};
}
