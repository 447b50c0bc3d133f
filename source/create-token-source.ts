import {tokenCacheKey} from './cache-key.js';
import {normalizeConfig, type OAuthConfig} from './options.js';
import {createTokenRequest} from './token-request.js';
import {TokenSource} from './token-source.js';

/**
A token source built from a configuration, carrying the key of the token it gets. A subclass, so `TokenSource` itself stays transport- and configuration-free.
*/
class KeyedTokenSource extends TokenSource {
	/** See `tokenCacheKey`: equal only for configurations that get interchangeable tokens. */
	readonly cacheKey: string;

	constructor(config: OAuthConfig) {
		const normalized = normalizeConfig(config);
		super({...config, fetchToken: createTokenRequest(normalized)});
		this.cacheKey = tokenCacheKey(normalized);
	}
}

export type ConfiguredTokenSource = TokenSource & {readonly cacheKey: string};

/**
A token source for a configuration: the token endpoint behind the cache. Usable without got's hooks, for a WebSocket handshake or any other client.
*/
export function createTokenSource(config: OAuthConfig): ConfiguredTokenSource {
	return new KeyedTokenSource(config);
}
