export {oauthHooks, type OAuthHooks, type HooksOptions} from './got/hooks.js';
export {createTokenSource, type ConfiguredTokenSource} from './token-source/create-token-source.js';
export {TokenSource, type TokenSourceOptions, type GetTokenOptions} from './token-source/token-source.js';
export type {TokenSet} from './token-source/token-source.js';
export type {CacheOptions, Clock} from './token-source/cache-options.js';
export {TokenError, ConfigurationError, type TokenErrorDetails} from './errors.js';
export {redisTokenStore, type RedisTokenStoreOptions, type RedisClient, type NodeRedisClient, type IoRedisClient} from './stores/redis.js';
export type {Store, TokenStore, KeyvStore} from './stores/store.js';
export type {StoreOptions} from './stores/options.js';
export type {EncryptionKey} from './stores/configuration.js';
export type {OAuthConfig} from './configuration/normalize.js';
export type {ClientAuthentication} from './client-authentication/registry.js';
export type {GrantType} from './grants/registry.js';
export type {CustomGrant, CustomGrantContext, TokenEndpointResponse} from './grants/custom.js';
export type {TokenValue} from './grants/grant.js';
export type {FormParameters} from './token-endpoint/fetch-token.js';
export type {TokenRequestOptions} from './token-endpoint/options.js';
export type {SigningKey, PrivateKeyInput} from './signing/signing-key.js';
export type {DpopOptions, DpopKeyOptions} from './dpop/options.js';
export type {DpopKey} from './dpop/key.js';
export type {DpopErrorDetails} from './dpop/rejection.js';
export type {ClientCertificate, PemSource} from './token-endpoint/client-certificate.js';
export {tokenFromFile, pemFromFile} from './workload-identity/from-file.js';
export {entraWorkloadIdentity, type EntraWorkloadIdentityOptions, type EntraWorkloadIdentityConfig} from './workload-identity/entra.js';
export {
	channelNames,
	type ChannelMessages,
	type SourceLabels,
	type TokenRequestMessage,
	type CacheHitMessage,
	type CacheMissMessage,
	type RefreshAheadStartMessage,
	type RefreshAheadFailureMessage,
	type CoolDownOpenMessage,
	type CoolDownRejectMessage,
	type CoolDownProbeMessage,
	type ApiRetryMessage,
	type TokenHeldMessage,
	type DiscoverySuccessMessage,
	type DiscoveryFailureMessage,
	type StoreMessage,
	type DpopNonceRetryMessage,
} from './diagnostics/channels.js';
