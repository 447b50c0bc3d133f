/*
The public types are part of the API: `npm run typecheck` compiles this file, and each `@ts-expect-error` fails the build if the misuse below it ever compiles.
*/
import got, {type Got} from 'got';
import {expectTypeOf} from 'expect-type';
import {
	createTokenSource,
	entraWorkloadIdentity,
	oauthHooks,
	pemFromFile,
	tokenFromFile,
	TokenSource,
	type PemSource,
	type ConfigurationError,
	type TokenError,
	type ClientAuthentication,
	type GrantType,
	type OAuthConfig,
	type OAuthHooks,
	type TokenSet,
	type DpopKey,
} from '../source/index.js';

const config = {tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'} satisfies OAuthConfig;

// oauthHooks takes a configuration or a TokenSource, and got.extend takes what it returns.
expectTypeOf(oauthHooks).toBeCallableWith(config);
expectTypeOf(oauthHooks).toBeCallableWith(createTokenSource(config));
expectTypeOf(oauthHooks).toBeCallableWith(new TokenSource({fetchToken: async () => ({accessToken: 'x', tokenType: 'Bearer'})}), {origins: ['https://api.example']});
expectTypeOf(oauthHooks(config)).toEqualTypeOf<OAuthHooks>();
expectTypeOf(got.extend).toBeCallableWith(oauthHooks(config));
expectTypeOf(got.extend).toBeCallableWith({prefixUrl: 'https://api.example'}, oauthHooks(config));
expectTypeOf(got.extend(oauthHooks(config))).toExtend<Got>();

// The lists are the registries' own.
expectTypeOf<GrantType>().toEqualTypeOf<'client_credentials' | 'refresh_token' | 'urn:ietf:params:oauth:grant-type:jwt-bearer' | 'urn:ietf:params:oauth:grant-type:token-exchange'>();
expectTypeOf<ClientAuthentication>().toEqualTypeOf<'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth' | 'none'>();

// Each grant's options are in the configuration, with their types.
expectTypeOf<OAuthConfig['refreshToken']>().toEqualTypeOf<string | undefined>();
expectTypeOf<OAuthConfig['subjectToken']>().toEqualTypeOf<string | (() => string | Promise<string>) | undefined>();
expectTypeOf<OAuthConfig['assertionClaims']>().toEqualTypeOf<Record<string, unknown> | undefined>();

// Without a secret: a client assertion is a token value; the file helpers make functions the options take.
expectTypeOf<OAuthConfig['clientAssertion']>().toEqualTypeOf<string | (() => string | Promise<string>) | undefined>();
expectTypeOf(tokenFromFile).returns.toEqualTypeOf<() => Promise<string>>();
expectTypeOf(oauthHooks).toBeCallableWith({...entraWorkloadIdentity(), scope: 'https://graph.microsoft.com/.default'});
expectTypeOf(oauthHooks).toBeCallableWith({...config, clientSecret: undefined, clientCertificate: {certificate: pemFromFile('tls.crt'), key: pemFromFile('tls.key')}});
expectTypeOf<ReturnType<typeof pemFromFile>>().toExtend<PemSource>();

// DPoP: on, or with a key, an algorithm, or a bearer fallback; the token's key comes with it.
expectTypeOf(oauthHooks).toBeCallableWith({...config, dpop: true});
expectTypeOf(oauthHooks).toBeCallableWith({...config, dpop: {privateKey: '-----BEGIN PRIVATE KEY-----…', alg: 'PS256', acceptBearer: true}});
expectTypeOf<TokenSet['dpopKey']>().toEqualTypeOf<DpopKey | undefined>();
expectTypeOf<DpopKey['jkt']>().toBeString();

// A token source's answers.
const source = createTokenSource(config);
expectTypeOf(source.getToken()).toEqualTypeOf<Promise<string>>();
expectTypeOf(source.getTokenSync()).toEqualTypeOf<string | undefined>();
expectTypeOf(source.cacheKey).toBeString();
expectTypeOf<TokenSet['accessToken']>().toBeString();

// Errors say what they are.
expectTypeOf<TokenError['code']>().toEqualTypeOf<'ERR_OAUTH_TOKEN'>();
expectTypeOf<ConfigurationError>().toExtend<TypeError>();

// Misuse that must not compile.
// @ts-expect-error: no clientId.
oauthHooks({tokenEndpoint: 'https://auth.example/token', clientSecret: 'secret'});
// @ts-expect-error: a grant that does not exist.
oauthHooks({...config, grant: 'password'});
// @ts-expect-error: a client authentication method that does not exist.
oauthHooks({...config, clientAuthentication: 'client_secret'});
// @ts-expect-error: token requests take no hooks.
oauthHooks({...config, tokenRequest: {hooks: {}}});
// @ts-expect-error: a misspelt option.
oauthHooks({...config, clientSecert: 'secret'});
// @ts-expect-error: a refresh token is a string.
oauthHooks({...config, grant: 'refresh_token', refreshToken: 42});
// @ts-expect-error: a client certificate is PEM, not a number.
oauthHooks({...config, clientCertificate: {certificate: 42, key: 'PEM'}});
// @ts-expect-error: a client assertion is a string, or a function returning one.
oauthHooks({...config, clientAssertion: async () => 42});
// @ts-expect-error: dpop is true or options, not a string.
oauthHooks({...config, dpop: 'ES256'});
// @ts-expect-error: acceptBearer is a boolean.
oauthHooks({...config, dpop: {acceptBearer: 'yes'}});
// @ts-expect-error: not a configuration.
oauthHooks('https://auth.example/token');
