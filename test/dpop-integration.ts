/*
DPoP (RFC 9449) end to end: oidc-provider issuing DPoP-bound JWT access tokens (`cnf.jkt`) by client credentials, and an API that verifies every proof (signature, typ, htm, htu, iat, jti, ath, jkt, nonce). Each test starts its own pair.
*/
import {generateKeyPairSync, type KeyObject} from 'node:crypto';
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError, type Got} from 'got';
import {EmbeddedJWK, SignJWT, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JWK} from 'jose';
import {createTokenSource, oauthHooks, type OAuthConfig, type TokenSource} from '../source/index.js';
import {apiResource, secrets, startTestAuthorizationServer, type TestAuthorizationServer} from './helpers/authorization-server.js';
import {startDpopResourceServer, type DpopResourceServer} from './helpers/dpop-resource-server.js';
import {startApiServer} from './helpers/local-servers.js';

type ApiBody = {ok: boolean; sub: string; clientId: string; path: string; jkt: string};

type Setup = {
	server: TestAuthorizationServer;
	api: DpopResourceServer;
	config: OAuthConfig;
	/** A got instance for the API, authorized by `auth`. */
	client(auth: OAuthConfig | TokenSource): Got;
};

async function setup(t: ExecutionContext, {nonces = false, dpop = true}: {nonces?: boolean; dpop?: OAuthConfig['dpop']} = {}): Promise<Setup> {
	const server = await startTestAuthorizationServer({requireDpopNonce: nonces});
	t.teardown(async () => server.close());
	const api = await startDpopResourceServer({issuer: server.issuer, audience: apiResource, requireNonce: nonces});
	t.teardown(async () => api.close());
	return {
		server,
		api,
		config: {tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, dpop},
		client: auth => got.extend({prefixUrl: api.url, retry: {limit: 2, backoffLimit: 1}}, oauthHooks(auth)),
	};
}

async function publicThumbprint(key: KeyObject): Promise<string> {
	const {kty, crv, x, y, n, e} = await exportJWK(key);
	return calculateJwkThumbprint({kty, crv, x, y, n, e});
}

test('client credentials with DPoP: a DPoP-bound token whose cnf.jkt is the key\'s thumbprint, accepted by an API that verifies every proof', async t => {
	const {server, api, config, client} = await setup(t);
	const source = createTokenSource(config);

	const body = await client(source)('reports').json<ApiBody>();

	t.like(body, {ok: true, sub: 'basic', clientId: 'basic', path: '/reports'});
	const details = await source.getTokenDetails();
	t.is(details.tokenType, 'DPoP');
	t.is((decodeJwt(details.accessToken).cnf as {jkt: string}).jkt, details.dpopKey!.jkt);
	t.is(body.jkt, details.dpopKey!.jkt);
	t.deepEqual(api.requests.map(request => [request.scheme, request.outcome]), [['DPoP', 'ok']]);
	// The provider verified the token request's proof; so does this test.
	const [tokenRequest] = server.tokenRequests;
	t.is(tokenRequest!.status, 200);
	const {payload, protectedHeader} = await jwtVerify(tokenRequest!.headers.dpop as string, EmbeddedJWK, {typ: 'dpop+jwt'});
	t.like(payload, {htm: 'POST', htu: server.tokenEndpoint});
	t.is(await calculateJwkThumbprint(protectedHeader.jwk!), details.dpopKey!.jkt);
});

test('nonces required at the token endpoint and at the API: one extra round trip each on first contact, none afterwards', async t => {
	const {server, api, config, client} = await setup(t, {nonces: true});
	const source = createTokenSource(config);
	const call = client(source);

	await call('first');
	t.deepEqual(server.tokenRequests.map(request => [request.status, request.error]), [[400, 'use_dpop_nonce'], [200, undefined]]);
	t.deepEqual(api.requests.map(request => request.outcome), ['no nonce', 'ok']);

	for (const path of ['a', 'b', 'c', 'd', 'e']) {
		await call(path);
	}

	t.is(server.tokenRequests.length, 2);
	t.is(api.requests.length, 7);
	t.true(api.requests.slice(2).every(request => request.outcome === 'ok'));

	// A new token: the token endpoint's nonce is remembered.
	source.invalidate(source.peek()!);
	await call('after-new-token');
	t.deepEqual(server.tokenRequests.slice(2).map(request => request.status), [200]);
	t.is(api.requests.length, 8);

	// The API rotates its nonce and says so in a 200: the next request has it, and the old one is never needed again.
	api.rotateNonce();
	await call('rotation-announced');
	api.retirePreviousNonce();
	await call('after-rotation');
	t.deepEqual(api.requests.slice(8).map(request => [request.path, request.outcome, request.claims?.nonce === api.nonce]), [
		['/rotation-announced', 'ok', false],
		['/after-rotation', 'ok', true],
	]);
});

test('a replayed proof is rejected by the API, and ours are never replayed: many calls, retries, a fresh-token retry, redirects', async t => {
	const {server, api, config, client} = await setup(t, {nonces: true});
	const flaky = new Set<string>();
	let isRevoked = false;
	api.route(request => {
		const path = request.url!;
		if (path.startsWith('/flaky/') && !flaky.has(path)) {
			flaky.add(path);
			return {status: 503};
		}

		if (path.startsWith('/hop/')) {
			return {status: 302, headers: {location: path.replace('/hop/', '/landing/')}};
		}

		if (path === '/revoked' && !isRevoked) {
			isRevoked = true;
			return {status: 401, headers: {'www-authenticate': 'DPoP error="invalid_token"'}};
		}

		return undefined;
	});
	const call = client(config);

	await call('revoked');
	const paths = Array.from({length: 30}, (_, index) => `${['reports', 'flaky', 'hop'][index % 3]}/${index}`);
	// got retries only GET after a 503; a POST is redirected as a GET.
	const bodies = await Promise.all(paths.map(async (path, index) => index % 2 === 1 && !path.startsWith('flaky') ? call.post(path, {json: {index}}).json<ApiBody>() : call(path).json<ApiBody>()));

	t.true(bodies.every(body => body.ok));
	const {requests} = api;
	// The nonce retry, the fresh-token retry, 30 calls, 10 of them retried after a 503 and 10 redirected.
	t.is(requests.length, 2 + 1 + 30 + 10 + 10);
	t.is(requests.filter(request => request.outcome === 'ok').length, 31);
	t.deepEqual(requests.filter(request => !['ok', 'routed 503', 'routed 302', 'routed 401'].includes(request.outcome)).map(request => request.outcome), ['no nonce']);
	const jtis = requests.map(request => request.claims!.jti);
	t.is(new Set(jtis).size, requests.length);
	// Every proof, routed ones included, verifies and is for the request it came with.
	for (const request of requests) {
		const {payload} = await jwtVerify(request.proof!, EmbeddedJWK, {typ: 'dpop+jwt'});
		t.like(payload, {htm: request.method, htu: `${api.url}${request.path.split('?', 1)[0]}`});
	}

	t.is(server.tokenRequests.filter(request => request.status === 200).length, 2);

	// The API refuses a proof it has seen, even with its token, method and URL.
	const seen = requests.find(request => request.outcome === 'ok' && request.method === 'GET')!;
	const replay = await got(`${api.url}${seen.path}`, {headers: {authorization: `DPoP ${seen.token!}`, dpop: seen.proof}, throwHttpErrors: false});
	t.is(replay.statusCode, 401);
	t.is(api.requests.at(-1)!.outcome, 'replayed');
});

test('redirects: on the API\'s origin, a new proof the API verifies for the new URL; to another origin, neither token nor proof', async t => {
	const {api, config, client} = await setup(t);
	const other = await startApiServer();
	t.teardown(async () => other.close());
	api.route(request => {
		switch (request.url ?? '') {
			case '/start': {
				return {status: 302, headers: {location: '/landing?from=start'}};
			}

			case '/away': {
				return {status: 307, headers: {location: other.url('/elsewhere')}};
			}

			default: {
				return undefined;
			}
		}
	});
	const call = client(config);

	t.like(await call('start').json<ApiBody>(), {ok: true, path: '/landing?from=start'});
	await call.post('away', {json: {}});

	t.deepEqual(api.requests.map(request => [request.path, request.outcome, request.claims?.htu]), [
		['/start', 'routed 302', `${api.url}/start`],
		['/landing?from=start', 'ok', `${api.url}/landing`],
		['/away', 'routed 307', `${api.url}/away`],
	]);
	t.deepEqual(other.requests.map(request => [request.method, request.path, request.headers.authorization, request.headers.dpop]), [['POST', '/elsewhere', undefined, undefined]]);
});

test('a stolen token is useless without the key: as a bearer token, with another key\'s proof, or with a replayed proof', async t => {
	const {api, config, client} = await setup(t);
	await client(config)('reports');
	const [stolen] = api.requests;
	const send = async (headers: Record<string, string>) => got(`${api.url}/reports`, {headers, throwHttpErrors: false});

	const asBearer = await send({authorization: `Bearer ${stolen!.token!}`});
	const {privateKey, publicKey} = await generateKeyPair('ES256');
	const thiefProof = await new SignJWT({htm: 'GET', htu: `${api.url}/reports`, iat: Math.floor(Date.now() / 1000), jti: 'thief-1', ath: stolen!.claims!.ath})
		.setProtectedHeader({typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(publicKey)})
		.sign(privateKey);
	const withThiefKey = await send({authorization: `DPoP ${stolen!.token!}`, dpop: thiefProof});
	const replayed = await send({authorization: `DPoP ${stolen!.token!}`, dpop: stolen!.proof!});

	t.deepEqual([asBearer.statusCode, withThiefKey.statusCode, replayed.statusCode], [401, 401, 401]);
	t.deepEqual(api.requests.slice(1).map(request => request.outcome), ['scheme Bearer', 'jkt', 'replayed']);
});

for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'PS256', 'PS512']) {
	test(`a generated ${alg} key: the provider binds the token to it and the API verifies its proofs`, async t => {
		const {api, config, client} = await setup(t, {dpop: {alg}});

		t.like(await client(config)('reports').json<ApiBody>(), {ok: true});
		t.is(decodeProtectedHeader(api.requests[0]!.proof!).alg, alg);
	});
}

const givenKeys: Array<[string, () => KeyObject, (key: KeyObject) => unknown, string | undefined, string]> = [
	['an EC KeyObject', () => generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey, key => key, undefined, 'ES256'],
	['an RSA PEM, with PS256', () => generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey, key => key.export({format: 'pem', type: 'pkcs8'}), 'PS256', 'PS256'],
	['an Ed25519 JWK', () => generateKeyPairSync('ed25519').privateKey, key => key.export({format: 'jwk'}), undefined, 'EdDSA'],
];

for (const [name, make, form, alg, expectedAlg] of givenKeys) {
	test(`a given key, ${name}: its proofs, and a token bound to it`, async t => {
		const key = make();
		const {api, config, client} = await setup(t, {dpop: {privateKey: form(key) as KeyObject, alg}});

		const body = await client(config)('reports').json<ApiBody>();

		t.is(body.jkt, await publicThumbprint(key));
		t.is(decodeProtectedHeader(api.requests[0]!.proof!).alg, expectedAlg);
	});
}

test('refresh_token with DPoP: a refresh token bound to a key works with that key, and its rotated successor stays bound to it', async t => {
	const {server, api} = await setup(t);
	const key = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey;
	const refreshToken = await server.issueRefreshToken('user-d', {jkt: await publicThumbprint(key)});
	const rotated: string[] = [];
	const config: OAuthConfig = {
		tokenEndpoint: server.tokenEndpoint,
		clientId: 'app',
		clientAuthentication: 'none',
		grant: 'refresh_token',
		refreshToken,
		onRefreshToken(value) {
			rotated.push(value);
		},
		dpop: {privateKey: key},
	};
	const source = createTokenSource(config);
	const call = got.extend({prefixUrl: api.url}, oauthHooks(source));

	t.like(await call('first').json<ApiBody>(), {ok: true, sub: 'user-d'});
	source.invalidate(source.peek()!);
	t.like(await call('second').json<ApiBody>(), {ok: true, sub: 'user-d'});

	t.deepEqual(server.tokenRequests.map(request => request.status), [200, 200]);
	t.is(rotated.length, 2);
	// A generated key is another key: the provider refuses it the refresh token, rotated or not.
	const otherKey = {...config, onRefreshToken: undefined, dpop: true};
	await t.throwsAsync(createTokenSource({...otherKey, refreshToken: rotated[1]!}).getToken(), {message: /invalid_grant/v});
	t.is(server.tokenRequests.at(-1)!.errorDetail, 'failed jkt verification');
});

test('a DPoP-bound token is refused as a bearer token: the 401 is an HTTPError with the API\'s DPoP error', async t => {
	const {api, config} = await setup(t);
	const source = createTokenSource(config);
	const token = await source.getToken();

	const error = await t.throwsAsync(got(`${api.url}/reports`, {headers: {authorization: `Bearer ${token}`}, ...oauthHooks(source)}), {instanceOf: HTTPError});

	t.like((error as HTTPError & {dpopError?: unknown}).dpopError, {error: 'invalid_token'});
});
