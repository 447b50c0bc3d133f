import {normalizeConfig, type OAuthConfig} from './options.js';
import {createTokenRequest} from './token-request.js';
import {TokenSource} from './token-source.js';

/**
A token source for a client credentials configuration: the token endpoint behind the cache. Usable without got's hooks, for a WebSocket handshake or any other client.
*/
export function createTokenSource(config: OAuthConfig): TokenSource {
	return new TokenSource({...config, fetchToken: createTokenRequest(normalizeConfig(config))});
}
