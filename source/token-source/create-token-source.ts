import {tokenCacheKey} from '../configuration/cache-key.js';
import {processLocalProblem} from '../configuration/fingerprint.js';
import {normalizeConfig, type OAuthConfig} from '../configuration/normalize.js';
import {labelSource} from '../diagnostics/identify.js';
import {registerDpopSource} from '../dpop/registry.js';
import {ConfigurationError} from '../errors.js';
import {storeEncryptionKeyFor} from '../stores/options.js';
import {createFetchToken} from '../token-endpoint/fetch-token.js';
import {TokenSource} from './token-source.js';

/**
A token source built from a configuration, carrying the key of the token it gets. A subclass, so `TokenSource` itself stays configuration-free.
*/
class ConfiguredSource extends TokenSource {
	/**
	See `tokenCacheKey`: equal only for configurations that get interchangeable tokens.
	*/
	readonly cacheKey: string;

	constructor(config: OAuthConfig) {
		const normalized = normalizeConfig(config);
		const cacheKey = tokenCacheKey(normalized);
		// A certificate can bind the token (RFC 8705 §3), so it names the token as a subject token does.
		const sharingProblem = normalized.grant.sharingProblem ?? processLocalProblem('clientCertificate.certificate', normalized.clientCertificate?.certificate);
		if (sharingProblem !== undefined && config.store !== undefined) {
			throw new ConfigurationError(sharingProblem.option, sharingProblem.problem);
		}

		const {clientSecret, privateKey} = normalized.credentials;
		super({
			...config,
			fetchToken: createFetchToken(normalized),
			cacheKey,
			encryptionKey: storeEncryptionKeyFor(config, clientSecret ?? privateKey),
		});
		this.cacheKey = cacheKey;
		labelSource(this, {clientId: normalized.clientId, grantType: normalized.grant.type});
		if (normalized.dpop !== undefined) {
			registerDpopSource(this, normalized.dpop);
		}
	}
}

export type ConfiguredTokenSource = TokenSource & {readonly cacheKey: string};

/**
A token source for a configuration: the token endpoint behind the cache. Usable without got's hooks, for a WebSocket handshake or any other client.
*/
export function createTokenSource(config: OAuthConfig): ConfiguredTokenSource {
	return new ConfiguredSource(config);
}
