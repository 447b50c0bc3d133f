import type {OAuthConfig} from './configuration/normalize.js';
import {isPlainObject} from './checks.js';
import {dpopSettingsOf} from './dpop/registry.js';
import {ConfigurationError, describeValue} from './errors.js';
import {checkOrigins, createOriginPolicy, type OriginOptions, type OriginPolicy} from './origin-policy.js';
import {createTokenSource} from './token-source/create-token-source.js';
import {TokenSource} from './token-source/token-source.js';

export type AdapterSetup = {
	readonly source: TokenSource;
	readonly policy: OriginPolicy;
};

/**
What every transport adapter starts from: a token source (the one given, or one built from a configuration) and the origin rule. A configuration's own `origins` apply unless the adapter's options give a list.
*/
export function setUpAdapter(configOrSource: OAuthConfig | TokenSource, options: OriginOptions): AdapterSetup {
	if (typeof configOrSource !== 'object' || configOrSource === null) {
		throw new ConfigurationError('config', `must be a configuration object or a TokenSource, got ${describeValue(configOrSource)}`);
	}

	if (!isPlainObject(options)) {
		throw new ConfigurationError('options', `must be an object, got ${describeValue(options)}`);
	}

	const isSource = configOrSource instanceof TokenSource;
	// A predicate over got's response cannot judge a fetch Response, and ignoring it would retry what the caller said not to.
	if (!isSource && configOrSource.isTokenRejected !== undefined) {
		throw new ConfigurationError('isTokenRejected', 'works with the got hooks (`oauthHooks`) only: the ky and fetch adapters take a `401` as the rejected token (RFC 6750 §3.1)');
	}

	const source = isSource ? configOrSource : createTokenSource(configOrSource);
	// A DPoP-bound token sent without a proof is one the API must reject (RFC 9449 §7.1): refuse, rather than fail on every call.
	if (dpopSettingsOf(source) !== undefined) {
		throw new ConfigurationError('dpop', 'works with the got hooks (`oauthHooks`) only: the ky and fetch adapters send no DPoP proof, and an API rejects a DPoP-bound token without one (RFC 9449 §7.1). Use got for this API, or a token source without `dpop`');
	}

	return {source, policy: createOriginPolicy(checkOrigins(options.origins ?? (isSource ? undefined : configOrSource.origins)))};
}
