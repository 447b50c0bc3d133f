export {oauthHooks, type OAuthHooks, type HooksOptions} from './hooks.js';
export {createTokenSource, type ConfiguredTokenSource} from './create-token-source.js';
export {TokenSource, type TokenSourceOptions, type GetTokenOptions} from './token-source.js';
export {TokenError, ConfigurationError, type TokenErrorDetails} from './errors.js';
export {
	type OAuthConfig,
	type ClientAuthentication,
	type GrantType,
	type CustomGrant,
	type CustomGrantContext,
	type TokenEndpointResponse,
	type FormParameters,
	type TokenValue,
	type SigningKey,
	type PrivateKeyInput,
	type TokenRequestOptions,
	type Clock,
} from './options.js';
export type {TokenSet} from './token-response.js';
