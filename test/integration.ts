/*
Against real servers on loopback: oidc-provider issuing JWT access tokens, and an API verifying them. Each test starts its own pair, so counters are its own and tests run concurrently; only the two expiry tests wait real seconds.
*/
import {setTimeout as delay} from 'node:timers/promises';
import {inspect} from 'node:util';
import test, {type ExecutionContext} from 'ava';
import got, {type Got} from 'got';
import {decodeJwt} from 'jose';
import {
	startAuthorizationServer,
	startResourceServer,
	type AuthorizationServer,
	type AuthorizationServerOptions,
	type ClientCredentials,
	type ResourceServer,
} from '../fixtures/servers.js';
import {TokenError, createTokenSource, oauthHooks, type OAuthConfig, type TokenSource} from '../source/index.js';

type Servers = {
	authorizationServer: AuthorizationServer;
	resourceServer: ResourceServer;
	/** Configuration for `credentials` (default: the client_secret_basic client) against this authorization server. */
	config(credentials?: ClientCredentials, extra?: Partial<OAuthConfig>): OAuthConfig;
	/** A got instance for the API, authorized by `auth`. */
	api(auth: OAuthConfig | TokenSource): Got;
};

type ApiBody = {ok: boolean; sub: string; clientId: string; path: string};

async function startServers(t: ExecutionContext, options?: AuthorizationServerOptions, audience?: string): Promise<Servers> {
	const authorizationServer = await startAuthorizationServer(options);
	t.teardown(async () => authorizationServer.close());
	const resourceServer = await startResourceServer({issuer: authorizationServer.issuer, audience: audience ?? authorizationServer.defaultResource});
	t.teardown(async () => resourceServer.close());

	return {
		authorizationServer,
		resourceServer,
		config: (credentials = authorizationServer.clients.basic, extra = {}) => ({tokenEndpoint: authorizationServer.tokenEndpoint, ...credentials, ...extra}),
		api: auth => got.extend({prefixUrl: resourceServer.url, responseType: 'json'}, oauthHooks(auth)),
	};
}

/** The way many clients send Basic credentials, without RFC 6749 §2.3.1's form-urlencoding. */
async function unencodedBasicStatus(authorizationServer: AuthorizationServer, {clientId, clientSecret}: ClientCredentials): Promise<number> {
	const response = await got.post(authorizationServer.tokenEndpoint, {
		headers: {authorization: 'Basic ' + Buffer.from(`${clientId}:${clientSecret}`).toString('base64')},
		form: {grant_type: 'client_credentials'},
		throwHttpErrors: false,
	});
	return response.statusCode;
}

test('client_secret_basic: the first call fetches a token, with id and secret form-urlencoded', async t => {
	const {authorizationServer, resourceServer, config, api} = await startServers(t, {accessTokenTtl: 60});
	const {clients} = authorizationServer;
	// The fixture is only a test of the encoding if the raw secret fails.
	t.is(await unencodedBasicStatus(authorizationServer, clients.basic), 401);
	const tokenRequestsBefore = authorizationServer.tokenRequests;

	const response = await api(config(clients.basic)).get<ApiBody>('reports');

	t.is(response.statusCode, 200);
	t.deepEqual(response.body, {ok: true, sub: clients.basic.clientId, clientId: clients.basic.clientId, path: '/reports'});
	t.is(authorizationServer.tokenRequests - tokenRequestsBefore, 1);
	t.is(resourceServer.calls, 1);
});

test('client_secret_post: the first call fetches a token with the credentials in the body', async t => {
	const {authorizationServer, resourceServer, config, api} = await startServers(t, {accessTokenTtl: 60});
	const {clients} = authorizationServer;

	const response = await api(config(clients.post)).get<ApiBody>('reports');

	t.is(response.statusCode, 200);
	t.is(response.body.clientId, clients.post.clientId);
	t.is(authorizationServer.tokenRequests, 1);
	t.is(resourceServer.calls, 1);
});

test('a resource indicator is sent: the token is for that API, not the default one', async t => {
	const other = 'https://other-api.example/';
	const {authorizationServer, resourceServer, config, api} = await startServers(t, {accessTokenTtl: 60, resources: ['urn:got-oauth:demo-api', other]}, other);

	const response = await api(config(undefined, {resource: other})).get<ApiBody>('reports');

	t.is(response.statusCode, 200);
	t.is(authorizationServer.tokenRequests, 1);
	t.deepEqual(resourceServer.rejections, []);
});

test('20 concurrent first calls share one token request, and later calls reuse the token', async t => {
	const {authorizationServer, resourceServer, config, api} = await startServers(t, {accessTokenTtl: 60});
	const client = api(config());

	const burst = await Promise.all(Array.from({length: 20}, async (_, index) => client.get<ApiBody>(`burst/${index}`)));
	t.true(burst.every(response => response.statusCode === 200));
	t.is(authorizationServer.tokenRequests, 1);

	for (let index = 0; index < 10; index++) {
		const response = await client.get<ApiBody>(`again/${index}`);
		t.is(response.statusCode, 200);
	}

	t.is(authorizationServer.tokenRequests, 1);
	t.is(resourceServer.calls, 30);
	t.is(resourceServer.unauthorized, 0);
});

test('a 2 s token is used for 1 s (margin capped at half its life), then a new one is fetched before the API rejects it', async t => {
	const {authorizationServer, resourceServer, config} = await startServers(t, {accessTokenTtl: 2});
	// A first token with its own source warms up both servers (key import, the API's JWKS fetch), so a slow machine does not eat into the 1 s window.
	await got(resourceServer.url, oauthHooks(config()));
	const source = createTokenSource(config());
	const client = got.extend({prefixUrl: resourceServer.url}, oauthHooks(source));

	await client('first');
	const first = source.peek();
	// Still usable right after: a margin that swallowed the whole lifetime would refetch on every call.
	t.not(first, undefined);

	await delay(1100);
	// No longer usable after 1 s, though the server would still accept it for up to another second.
	t.is(source.peek(), undefined);
	const tokenRequestsBefore = authorizationServer.tokenRequests;
	await client('renewed');

	t.is(authorizationServer.tokenRequests - tokenRequestsBefore, 1);
	t.not(source.peek(), first);
	// Renewed on the client's schedule, not after a 401.
	t.deepEqual(resourceServer.rejections, []);
});

test('a token the API rejects as expired is replaced once and the request retried', async t => {
	const {authorizationServer, resourceServer, config} = await startServers(t, {accessTokenTtl: 2});
	// A clock that never moves keeps the token "valid" on our side while it really expires.
	const source = createTokenSource(config(undefined, {expiryMargin: 0, clock: () => 0}));
	const client = got.extend({prefixUrl: resourceServer.url}, oauthHooks(source));

	await client('before');
	const stale = source.peek()!;
	const {exp} = decodeJwt(stale);
	// jose treats a token as expired from the second `exp` names.
	await delay(Math.max(0, (exp! * 1000) - Date.now()) + 50);

	const response = await client('after');

	t.is(response.statusCode, 200);
	t.is(authorizationServer.tokenRequests, 2);
	t.deepEqual(resourceServer.rejections, ['ERR_JWT_EXPIRED']);
	t.is(resourceServer.calls, 3);
	t.not(source.peek(), stale);
});

test('20 concurrent calls failing with the same revoked token cause one token request, and all 20 succeed', async t => {
	const {authorizationServer, resourceServer, config} = await startServers(t, {accessTokenTtl: 60});
	const source = createTokenSource(config());
	const client = got.extend({prefixUrl: resourceServer.url, responseType: 'json'}, oauthHooks(source));

	await client('prime');
	const revoked = source.peek()!;
	resourceServer.revoke(revoked);

	const responses = await Promise.all(Array.from({length: 20}, async (_, index) => client.get<ApiBody>(`item/${index}`)));

	t.true(responses.every(response => response.statusCode === 200 && response.body.ok));
	t.is(authorizationServer.tokenRequests, 2);
	t.deepEqual(resourceServer.rejections, Array.from({length: 20}, () => 'revoked'));
	t.is(resourceServer.calls, 1 + 20 + 20);
	t.not(source.peek(), revoked);
});

test('a wrong secret gives TokenError invalid_client (401) and the API sees no request', async t => {
	const {authorizationServer, resourceServer, config, api} = await startServers(t);
	const clientSecret = 'wrong secret:%2B+';

	const error = await t.throwsAsync(api(config(undefined, {clientSecret})).get('reports'), {instanceOf: TokenError});

	t.is(error.error, 'invalid_client');
	t.is(error.statusCode, 401);
	t.is(authorizationServer.tokenRequests, 1);
	t.is(resourceServer.calls, 0);
	t.false(inspect(error, {depth: 5}).includes(clientSecret));
	t.false(JSON.stringify(error).includes(clientSecret));
});

test('an unknown resource gives TokenError invalid_target and the API sees no request', async t => {
	const {authorizationServer, resourceServer, config, api} = await startServers(t);

	const error = await t.throwsAsync(api(config(undefined, {resource: 'urn:got-oauth:unknown-api'})).get('reports'), {instanceOf: TokenError});

	t.is(error.error, 'invalid_target');
	t.is(error.statusCode, 400);
	t.is(authorizationServer.tokenRequests, 1);
	t.is(resourceServer.calls, 0);
});
