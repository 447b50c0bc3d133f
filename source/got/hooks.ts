import type {AfterResponseHook, BeforeErrorHook, BeforeRequestHook, NormalizedOptions} from 'got';
import type {OAuthConfig} from '../configuration/normalize.js';
import {ConfigurationError, describeValue, hideRequestDetails} from '../errors.js';
import {createTokenSource} from '../token-source/create-token-source.js';
import {TokenSource} from '../token-source/token-source.js';
import {checkOrigins, createOriginPolicy, type OriginOptions} from '../origin-policy.js';
import {attachToken} from './attach-token.js';
import {retryOn401} from './retry-on-401.js';

export type HooksOptions = OriginOptions;

export type OAuthHooks = {
	readonly hooks: {
		readonly beforeRequest: BeforeRequestHook[];
		readonly afterResponse: AfterResponseHook[];
		readonly beforeError: BeforeErrorHook[];
	};
};

/**
got hooks that authorize every request with an OAuth 2.0 access token. Pass the result to `got.extend()`; every instance extended with the same result shares one token cache.
*/
export function oauthHooks(configOrSource: OAuthConfig | TokenSource, hooksOptions: HooksOptions = {}): OAuthHooks {
	if (typeof configOrSource !== 'object' || configOrSource === null) {
		throw new ConfigurationError('config', `must be a configuration object or a TokenSource, got ${describeValue(configOrSource)}`);
	}

	const isSource = configOrSource instanceof TokenSource;
	const source = isSource ? configOrSource : createTokenSource(configOrSource);

	const policy = createOriginPolicy(checkOrigins(hooksOptions.origins ?? (isSource ? undefined : configOrSource.origins)));
	// A caller's own `authorization` is theirs: no token, no 401 handling.
	const isOurs = (options: NormalizedOptions, origin: string): boolean => options.headers.authorization === undefined
		&& policy.allows(origin, () => options.prefixUrl === '' ? undefined : new URL(options.prefixUrl).origin);

	return {
		hooks: {
			beforeRequest: [attachToken(source, isOurs)],
			afterResponse: [retryOn401(source)],
			beforeError: [error => hideRequestDetails(error)],
		},
	};
}
