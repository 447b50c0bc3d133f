import {tokenCacheKey} from '../configuration/cache-key.js';
import {normalizeConfig, type OAuthConfig} from '../configuration/normalize.js';
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
		super({...config, fetchToken: createFetchToken(normalized)});
		this.cacheKey = tokenCacheKey(normalized);
	}
}

export type ConfiguredTokenSource = TokenSource & {readonly cacheKey: string};

/**
A token source for a configuration: the token endpoint behind the cache. Usable without got's hooks, for a WebSocket handshake or any other client.
*/
export function createTokenSource(config: OAuthConfig): ConfiguredTokenSource {
	return new ConfiguredSource(config);
}
