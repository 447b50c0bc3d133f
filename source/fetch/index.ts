export {oauthFetch, type OAuthFetchOptions, type FetchFunction} from './oauth-fetch.js';
export {createTokenSource, type ConfiguredTokenSource} from '../token-source/create-token-source.js';
export {TokenSource, type GetTokenOptions} from '../token-source/token-source.js';
export {TokenError, ConfigurationError} from '../errors.js';
export type {OAuthConfig} from '../configuration/normalize.js';
export type {OriginOptions} from '../origin-policy.js';
