/* eslint-disable unicorn/prefer-https -- insecure metadata is one of the things tested. */
/*
Discovery (RFC 8414) against oidc-provider's real metadata, against servers whose metadata is wrong or lies, and the choice of client authentication from it.
*/
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {decodeJwt} from 'jose';
import {startResourceServer, type ResourceServer} from '../fixtures/servers.js';
import {createTokenSource, oauthHooks, TokenError, type OAuthConfig} from '../source/index.js';
import {apiResource, secrets, startTestAuthorizationServer, testKeys, type TestAuthorizationServer, type TestServerOptions, startWithApi, callApi, type ApiBody} from './helpers/authorization-server.js';
import {startApiServer, tokenReply, type Answer, type LocalServer, type RecordedRequest} from './helpers/local-servers.js';

/** A server answering metadata requests with `metadata(server, request)`, token requests with a token, and anything else with 404. */
async function metadataServer(t: ExecutionContext, metadata: (server: LocalServer, request: RecordedRequest) => Answer): Promise<LocalServer> {
	const server = await startApiServer();
	t.teardown(async () => server.close());
	server.handle(request => {
		if (request.path.includes('/.well-known/')) {
			return metadata(server, request);
		}

		return request.path === '/token' ? tokenReply('from-metadata-server') : {status: 404};
	});
	return server;
}

const isMetadataRequest = (request: RecordedRequest): boolean => request.path.includes('/.well-known/');

test('issuer only: the token endpoint and client_secret_basic come from the provider\'s RFC 8414 metadata, fetched once', async t => {
	const {server, api} = await startWithApi(t);
	const source = createTokenSource({issuer: server.issuer, clientId: 'basic', clientSecret: secrets.basic});
	const client = got.extend({prefixUrl: api.url}, oauthHooks(source));

	t.like(await client('first').json<ApiBody>(), {ok: true, clientId: 'basic'});
	source.invalidate(source.peek()!);
	t.like(await client('second').json<ApiBody>(), {ok: true, clientId: 'basic'});

	t.deepEqual(server.metadataRequests, ['/.well-known/oauth-authorization-server']);
	t.is(server.tokenRequests.length, 2);
	t.true(server.tokenRequests[0]!.headers.authorization?.startsWith('Basic '));
});

test('issuer with only a private key: private_key_jwt is chosen, and the assertion\'s aud names the issuer too', async t => {
	const {server, api} = await startWithApi(t);

	t.like(await callApi(api, {issuer: server.issuer, clientId: 'es256', privateKey: {key: testKeys().ec, kid: 'ec-1'}}), {ok: true, clientId: 'es256'});

	const claims = decodeJwt(String(server.tokenRequests[0]!.form.client_assertion));
	t.deepEqual(claims.aud, [server.tokenEndpoint, server.issuer]);
});

test('issuer with no credentials: none is chosen for a public client', async t => {
	const {server, api} = await startWithApi(t);

	t.like(await callApi(api, {issuer: server.issuer, clientId: 'app'}), {ok: true, clientId: 'app'});
	t.deepEqual(server.tokenRequests[0]!.form, {grant_type: 'client_credentials', client_id: 'app'});
});

test('issuer with a client certificate: tls_client_auth at the mtls_endpoint_aliases token endpoint (RFC 8705 §5)', async t => {
	const {server, api} = await startWithApi(t, {mtls: true});
	const pki = server.pki!;

	t.like(await callApi(api, {
		issuer: server.issuer,
		clientId: 'mtls',
		tokenRequest: {https: {certificate: pki.client.certificate, key: pki.client.key, certificateAuthority: pki.ca}},
	}), {ok: true, clientId: 'mtls'});

	t.is(server.tokenRequests[0]!.via, 'mtls');
	// Discovery went to the plain issuer; the certificate did not.
	t.deepEqual(server.metadataRequests, ['/.well-known/oauth-authorization-server']);
});

test('an issuer with a path: the well-known segment is inserted before the path (RFC 8414 §3.1)', async t => {
	const {server, api} = await startWithApi(t, {issuerPath: '/tenant-a'});

	t.like(await callApi(api, {issuer: server.issuer, clientId: 'basic', clientSecret: secrets.basic}), {ok: true});
	t.deepEqual(server.metadataRequests, ['/.well-known/oauth-authorization-server/tenant-a']);
});

test('an issuer with a path and no RFC 8414 document: OpenID Connect discovery below the path is the fallback', async t => {
	const {server, api} = await startWithApi(t, {issuerPath: '/tenant-a', pathInsertedMetadata: false});

	t.like(await callApi(api, {issuer: server.issuer, clientId: 'basic', clientSecret: secrets.basic}), {ok: true});
	t.deepEqual(server.metadataRequests, ['/.well-known/oauth-authorization-server/tenant-a', '/tenant-a/.well-known/openid-configuration']);
});

test('a server that serves another issuer\'s metadata is not used, and nothing is sent to its token endpoint (RFC 8414 §3.3)', async t => {
	const {server} = await startWithApi(t);
	const genuine = await got(`${server.issuer}/.well-known/oauth-authorization-server`).json<Record<string, unknown>>();
	// It copies the real provider's metadata, but points the token endpoint at itself to collect client secrets.
	const impostor = await metadataServer(t, self => ({body: {...genuine, token_endpoint: self.url('/token')}}));

	const error = await t.throwsAsync(createTokenSource({issuer: impostor.origin, clientId: 'basic', clientSecret: secrets.basic}).getToken(), {instanceOf: TokenError});

	t.is(error.message, `The metadata at ${impostor.origin}/.well-known/oauth-authorization-server is for issuer "${server.issuer}", not the configured "${impostor.origin}"; RFC 8414 §3.3 forbids using it`);
	t.false(impostor.requests.some(request => request.path === '/token'));
	t.is(server.tokenRequests.length, 0);
});

test('a failed discovery is not cached: the next token request discovers again', async t => {
	let isHealthy = false;
	const server = await metadataServer(t, self => isHealthy ? {body: {issuer: self.origin, token_endpoint: self.url('/token')}} : {status: 404});
	const source = createTokenSource({issuer: server.origin, clientId: 'client', clientSecret: 'secret', coolDown: 0});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.is(error.message, `No authorization server metadata for issuer "${server.origin}": ${server.origin}/.well-known/oauth-authorization-server answered HTTP 404; ${server.origin}/.well-known/openid-configuration answered HTTP 404 (RFC 8414 §3)`);

	isHealthy = true;
	t.is(await source.getToken(), 'from-metadata-server');
	source.invalidate('from-metadata-server');
	await source.getToken();
	// Two failed, then one that is kept for the later token request.
	t.is(server.requests.filter(request => isMetadataRequest(request)).length, 3);
});

const invalidMetadata: Array<[string, (server: LocalServer) => Record<string, unknown>, (server: LocalServer) => string]> = [
	['no token_endpoint', server => ({issuer: server.origin}), server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server has no absolute \`token_endpoint\` URL (RFC 8414 §2)`],
	['a relative token_endpoint', server => ({issuer: server.origin, token_endpoint: '/token'}), server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server has no absolute \`token_endpoint\` URL (RFC 8414 §2)`],
	[
		'an http: token_endpoint off loopback',
		server => ({issuer: server.origin, token_endpoint: 'http://auth.example/token'}),
		server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server names a \`token_endpoint\` that must be an https: URL: http: is allowed only on loopback, or with \`allowInsecureRequests: true\` (RFC 6749 §3.2 requires TLS)`,
	],
	[
		'an http: mTLS alias off loopback',
		server => ({issuer: server.origin, token_endpoint: server.url('/token'), mtls_endpoint_aliases: {token_endpoint: 'http://mtls.auth.example/token'}}),
		server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server names a \`mtls_endpoint_aliases.token_endpoint\` that must be an https: URL: http: is allowed only on loopback, or with \`allowInsecureRequests: true\` (RFC 6749 §3.2 requires TLS)`,
	],
	[
		'token_endpoint_auth_methods_supported that is not an array of strings',
		server => ({issuer: server.origin, token_endpoint: server.url('/token'), token_endpoint_auth_methods_supported: 'client_secret_basic'}),
		server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server has a \`token_endpoint_auth_methods_supported\` that is not an array of strings (RFC 8414 §2)`,
	],
	[
		'no method the credentials allow',
		server => ({issuer: server.origin, token_endpoint: server.url('/token'), token_endpoint_auth_methods_supported: ['private_key_jwt', 'tls_client_auth']}),
		server => `Issuer "${server.origin}" supports client authentication by private_key_jwt, tls_client_auth; the credentials given allow client_secret_basic, client_secret_post, client_secret_jwt. Set \`clientAuthentication\` and its credentials`,
	],
	[
		'an issuer that is not a string',
		() => ({issuer: 42, token_endpoint: 'https://auth.example/token'}),
		server => `The metadata at ${server.origin}/.well-known/oauth-authorization-server is for issuer number, not the configured "${server.origin}"; RFC 8414 §3.3 forbids using it`,
	],
];

for (const [name, metadata, message] of invalidMetadata) {
	test(`metadata with ${name} is a TokenError, and no token request is made`, async t => {
		const server = await metadataServer(t, self => ({body: metadata(self)}));

		const error = await t.throwsAsync(createTokenSource({issuer: server.origin, clientId: 'client', clientSecret: 'secret'}).getToken(), {instanceOf: TokenError});

		t.is(error.message, message(server));
		t.false(server.requests.some(request => request.path === '/token'));
	});
}

test('metadata that omits token_endpoint_auth_methods_supported means client_secret_basic only (RFC 8414 §2)', async t => {
	const server = await metadataServer(t, self => ({body: {issuer: self.origin, token_endpoint: self.url('/token')}}));

	t.is(await createTokenSource({issuer: server.origin, clientId: 'client', clientSecret: 'secret'}).getToken(), 'from-metadata-server');
	t.true(server.requests.at(-1)!.headers.authorization?.startsWith('Basic '));
	await t.throwsAsync(createTokenSource({issuer: server.origin, clientId: 'client', privateKey: testKeys().ec}).getToken(), {
		instanceOf: TokenError,
		message: `Issuer "${server.origin}" supports client authentication by client_secret_basic; the credentials given allow private_key_jwt. Set \`clientAuthentication\` and its credentials`,
	});
});

test('a configured clientAuthentication is used as it is, whatever the metadata lists first', async t => {
	const server = await metadataServer(t, self => ({body: {issuer: self.origin, token_endpoint: self.url('/token'), token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post']}}));

	await createTokenSource({issuer: server.origin, clientId: 'client', clientSecret: 'secret', clientAuthentication: 'client_secret_post'}).getToken();

	const tokenRequest = server.requests.at(-1)!;
	t.is(tokenRequest.headers.authorization, undefined);
	t.is(new URLSearchParams(tokenRequest.body).get('client_secret'), 'secret');
});

test('a 200 that is not JSON falls back to OpenID Connect discovery; an mTLS alias is ignored without a client certificate', async t => {
	const server = await metadataServer(t, (self, request) => ({
		body: request.path.endsWith('/openid-configuration')
			? {issuer: self.origin, token_endpoint: self.url('/token'), mtls_endpoint_aliases: {token_endpoint: 'https://127.0.0.1:1/token'}}
			: '<html>metadata</html>',
	}));

	t.is(await createTokenSource({issuer: server.origin, clientId: 'client', clientSecret: 'secret'}).getToken(), 'from-metadata-server');
	t.deepEqual(server.requests.map(request => request.path), ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/token']);
});

test('both tokenEndpoint and issuer: no discovery; the issuer joins the client assertion\'s audience', async t => {
	const server = await metadataServer(t, () => ({status: 500}));
	const issuer = 'https://issuer.example';

	await createTokenSource({tokenEndpoint: server.url('/token'), issuer, clientId: 'client', privateKey: testKeys().ec}).getToken();

	t.deepEqual(server.requests.map(request => request.path), ['/token']);
	t.deepEqual(decodeJwt(new URLSearchParams(server.requests[0]!.body).get('client_assertion')!).aud, [server.url('/token'), issuer]);
});
