import {
	HTTPError,
	type AfterResponseHook,
	type BeforeErrorHook,
	type BeforeRedirectHook,
	type BeforeRequestHook,
	type InitHook,
	type NormalizedOptions,
} from 'got';
import type {OAuthConfig} from '../configuration/normalize.js';
import {attachDpopToken} from '../dpop/attach-dpop-token.js';
import {learnNonceOnRedirect, retryWithNonce} from '../dpop/nonce-retry.js';
import {dpopSettingsOf} from '../dpop/registry.js';
import {explainDpopRejection, unlessProofRejected} from '../dpop/rejection.js';
import {labelsOf} from '../diagnostics/identify.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {checkOrigins, createOriginPolicy} from '../origin-policy.js';
import {createTokenSource} from '../token-source/create-token-source.js';
import {TokenSource} from '../token-source/token-source.js';
import {attachToken} from './attach-token.js';
import {readRequestState} from './request-state.js';
import {checkTokenRejectedPredicate, type HooksOptions} from './options.js';
import {retryOn401} from './retry-on-401.js';

export type {HooksOptions} from './options.js';

export type OAuthHooks = {
	readonly hooks: {
		readonly init: InitHook[];
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
	const isTokenRejected = checkTokenRejectedPredicate(options.isTokenRejected);

	// The instance's own prefixUrl, not one a request's options put in its place: got calls `init` hooks before it merges those options. Needed only until the policy has settled on its origin.
	const instancePrefixUrls = new WeakMap<WeakKey, string>();
	const rememberInstancePrefixUrl: InitHook = (_init, self) => {
		if (!policy.isSettled && !instancePrefixUrls.has(self)) {
			instancePrefixUrls.set(self, String(self.prefixUrl));
		}
	};

	const isOurs = (requestOptions: NormalizedOptions, origin: string): boolean => policy.isSettled
		? policy.allows(origin)
		: policy.allows(origin, () => {
			const prefixUrl = instancePrefixUrls.get(requestOptions) ?? requestOptions.prefixUrl;
			return prefixUrl === '' ? undefined : new URL(prefixUrl).origin;
		});
	const dpop = dpopSettingsOf(source);
	if (dpop !== undefined) {
		return {
			hooks: {
				init: [rememberInstancePrefixUrl],
				beforeRequest: [attachDpopToken(source, isOurs, dpop.nonces)],
				afterResponse: [retryWithNonce(dpop.nonces, labelsOf(source)), retryOn401(source, unlessProofRejected(isTokenRejected))],
				beforeError: [explainRejection, explainDpopRejection],
				beforeRedirect: [learnNonceOnRedirect(dpop.nonces)],
			},
		};
	}

	return {
		hooks: {
			init: [rememberInstancePrefixUrl],
			beforeRequest: [attachToken(source, isOurs)],
			afterResponse: [retryOn401(source, isTokenRejected)],
			beforeError: [explainRejection],
		},
	};
}
