/*
Every grant against oidc-provider on loopback. The refresh token grant uses the provider's own; the JWT bearer, token exchange and password grants are registered through its `registerGrantType`, as a deployment adds them.
*/
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {decodeJwt, SignJWT} from 'jose';
import {startResourceServer, type ResourceServer} from '../fixtures/servers.js';
import {createTokenSource, oauthHooks, TokenError, type OAuthConfig} from '../source/index.js';
import {accessTokenType, apiResource, jwtBearer, otherApiResource, passwordUser, secrets, serviceAccount, startTestAuthorizationServer, tokenExchange, type TestAuthorizationServer, type TestServerOptions, startWithApi, callApi, type ApiBody} from './helpers/authorization-server.js';

test('refresh_token: a public client uses a user\'s refresh token, and keeps the rotated one for the next request', async t => {
	const {server, api} = await startWithApi(t);
	const rotated: string[] = [];
	const refreshToken = await server.issueRefreshToken('user-7');
	const source = createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'app',
		clientAuthentication: 'none',
		grant: 'refresh_token',
		refreshToken,
		onRefreshToken(value) {
			rotated.push(value);
		},
	});
	const client = got.extend({prefixUrl: api.url}, oauthHooks(source));

	t.like(await client('first').json<ApiBody>(), {ok: true, sub: 'user-7', clientId: 'app'});
	source.invalidate(source.peek()!);
	t.like(await client('second').json<ApiBody>(), {ok: true, sub: 'user-7'});

	// Each request spent the refresh token it sent; reusing one would have made the provider revoke the grant.
	const sent = server.tokenRequests.map(request => request.form.refresh_token);
	t.deepEqual(sent, [refreshToken, rotated[0]]);
	t.is(rotated.length, 2);
	t.not(rotated[0], rotated[1]);
	t.true(server.tokenRequests.every(request => request.status === 200));
	t.is(server.tokenRequests[0]!.headers.authorization, undefined);
	t.is(server.tokenRequests[0]!.form.client_id, 'app');
});

test('refresh_token: a spent refresh token is refused by the provider, which is why rotation must be kept', async t => {
	const {server} = await startWithApi(t);
	const refreshToken = await server.issueRefreshToken('user-8');
	const config: OAuthConfig = {tokenEndpoint: server.tokenEndpoint, clientId: 'app', clientAuthentication: 'none', grant: 'refresh_token', refreshToken};
	await createTokenSource(config).getToken();

	// A second source holding the original refresh token, as a restarted process that did not store the rotated one would.
	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_grant');
});

test('refresh_token: a refresh whose answer was lost is not sent again, so the provider does not revoke the grant', async t => {
	const {server} = await startWithApi(t);
	const refreshToken = await server.issueRefreshToken('user-9');
	server.dropNextTokenResponses(1);
	const config: OAuthConfig = {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'app',
		clientAuthentication: 'none',
		grant: 'refresh_token',
		refreshToken,
		tokenRequest: {retry: {backoffLimit: 1}},
	};

	// What no client can avoid: the rotated refresh token was in the lost answer. The error says the connection went.
	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});
	t.is(error.statusCode, undefined);
	t.deepEqual(server.tokenRequests.map(request => request.status), [200]);

	// The spent refresh token was not replayed, so reuse detection did not revoke the grant: the rotated one still works.
	const rotated = server.droppedTokenResponses[0]?.refresh_token;
	t.is(typeof rotated, 'string');
	t.truthy(await createTokenSource({...config, refreshToken: rotated as string}).getToken());
});

test('refresh_token: a 503 after the provider rotated is not retried either: only a 429 or 503 with Retry-After says the request was not processed', async t => {
	const {server} = await startWithApi(t);
	const refreshToken = await server.issueRefreshToken('user-10');
	server.failNextTokenResponses(1);
	const source = createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'app',
		clientAuthentication: 'none',
		grant: 'refresh_token',
		refreshToken,
		tokenRequest: {retry: {backoffLimit: 1}},
	});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.is(error.statusCode, 503);
	t.deepEqual(server.tokenRequests.map(request => request.status), [200]);
});

test('jwt-bearer: got-oauth signs the assertion with the service account\'s key, like a Google service account', async t => {
	const {server, api} = await startWithApi(t);

	const body = await callApi(api, {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'reports-bot',
		grant: jwtBearer,
		privateKey: server.keys.serviceAccount,
		assertionClaims: {iss: serviceAccount, sub: 'user-42'},
	});

	t.like(body, {ok: true, sub: 'user-42', clientId: 'reports-bot'});
	const [request] = server.tokenRequests;
	t.is(request!.form.grant_type, jwtBearer);
	// RFC 7523 §2.1: the assertion is the credential; no client authentication was inferred from the key.
	t.is(request!.form.client_assertion, undefined);
	const claims = decodeJwt(String(request!.form.assertion));
	t.like(claims, {iss: serviceAccount, sub: 'user-42', aud: server.tokenEndpoint});
	t.is(claims.exp! - claims.iat!, 60);
});

test('jwt-bearer: every attempt signs a new assertion, so a retry after a lost response is not a replay', async t => {
	const {server} = await startWithApi(t);
	server.failNextTokenResponses(1);

	const token = await createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'reports-bot',
		grant: jwtBearer,
		privateKey: server.keys.serviceAccount,
		assertionClaims: {iss: serviceAccount, sub: 'user-42'},
		tokenRequest: {retry: {backoffLimit: 1}},
	}).getToken();

	t.truthy(token);
	const [first, second] = server.tokenRequests.map(request => decodeJwt(String(request.form.assertion)));
	t.deepEqual(server.tokenRequests.map(request => request.status), [200, 200]);
	t.not(first!.jti, second!.jti);
});

test('jwt-bearer: an assertion the caller signs, from a callback', async t => {
	const {server, api} = await startWithApi(t);
	let calls = 0;

	const body = await callApi(api, {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'reports-bot',
		clientAuthentication: 'none',
		grant: jwtBearer,
		async assertion() {
			calls++;
			return new SignJWT({sub: 'user-43'})
				.setProtectedHeader({alg: 'ES256'})
				.setIssuer(serviceAccount)
				.setAudience(server.issuer)
				.setJti(crypto.randomUUID())
				.setIssuedAt()
				.setExpirationTime('1m')
				.sign(server.keys.serviceAccount);
		},
	});

	t.like(body, {ok: true, sub: 'user-43'});
	t.is(calls, 1);
});

test('jwt-bearer: the provider refuses an assertion it has seen', async t => {
	const {server} = await startWithApi(t);
	const assertion = await new SignJWT({sub: 'user-44'})
		.setProtectedHeader({alg: 'ES256'})
		.setIssuer(serviceAccount)
		.setAudience(server.tokenEndpoint)
		.setJti('fixed')
		.setIssuedAt()
		.setExpirationTime('1m')
		.sign(server.keys.serviceAccount);
	const config: OAuthConfig = {tokenEndpoint: server.tokenEndpoint, clientId: 'reports-bot', clientAuthentication: 'none', grant: jwtBearer, assertion};

	await createTokenSource(config).getToken();
	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_grant');
	t.is(server.tokenRequests[1]!.errorDetail, 'assertion replayed');
});

test('token-exchange: a user\'s token is exchanged for one to another API, on the user\'s behalf (RFC 8693)', async t => {
	const {server, api} = await startWithApi(t, {}, otherApiResource);
	const userTokens = createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'app',
		clientAuthentication: 'none',
		grant: 'refresh_token',
		refreshToken: await server.issueRefreshToken('user-7'),
	});

	const body = await callApi(api, {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'gateway',
		clientSecret: secrets.gateway,
		grant: tokenExchange,
		subjectToken: async () => userTokens.getToken(),
		resource: otherApiResource,
	});

	t.like(body, {ok: true, sub: 'user-7', clientId: 'gateway'});
	const exchange = server.tokenRequests.at(-1)!;
	t.like(exchange.form, {grant_type: tokenExchange, subject_token_type: accessTokenType, resource: otherApiResource});
	t.is(exchange.form.subject_token, userTokens.peek());
});

test('token-exchange: a subject token the provider did not issue is refused', async t => {
	const {server} = await startWithApi(t);
	const error = await t.throwsAsync(createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'gateway',
		clientSecret: secrets.gateway,
		grant: tokenExchange,
		subjectToken: 'not-a-token-from-this-server',
	}).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_grant');
});

test('custom grant: a function sends a grant got-oauth has no name for, with the configured client authentication', async t => {
	const {server, api} = await startWithApi(t);

	const body = await callApi(api, {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'legacy',
		clientSecret: secrets.legacy,
		scope: 'api:read',
		grant: async ({requestToken}) => requestToken({grant_type: 'password', ...passwordUser}),
	});

	t.like(body, {ok: true, sub: passwordUser.username, clientId: 'legacy'});
	const [request] = server.tokenRequests;
	t.like(request!.form, {grant_type: 'password', username: passwordUser.username, scope: 'api:read'});
	t.true(request!.headers.authorization?.startsWith('Basic '));
});

test('custom grant: the provider\'s error response is a TokenError', async t => {
	const {server} = await startWithApi(t);
	const error = await t.throwsAsync(createTokenSource({
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'legacy',
		clientSecret: secrets.legacy,
		grant: async ({requestToken}) => requestToken({grant_type: 'password', username: 'alice', password: 'guess'}),
	}).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_grant');
	t.is(error.statusCode, 400);
});

test('extraParams reach the token endpoint as form parameters', async t => {
	const {server, api} = await startWithApi(t);

	await callApi(api, {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'basic',
		clientSecret: secrets.basic,
		extraParams: {tenant: 'acme', feature: ['a', 'b']},
	});

	t.like(server.tokenRequests[0]!.form, {grant_type: 'client_credentials', tenant: 'acme', feature: ['a', 'b']});
});
