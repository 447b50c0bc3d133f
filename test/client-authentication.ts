/*
Every client authentication method against oidc-provider on loopback, each through got to an API that verifies the token. client_secret_basic and client_secret_post are in integration.ts.
*/
import {once} from 'node:events';
import {createServer as createHttpsServer} from 'node:https';
import type {AddressInfo} from 'node:net';
import type {TLSSocket} from 'node:tls';
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {decodeJwt, decodeProtectedHeader, exportJWK} from 'jose';
import {close, startResourceServer, type ResourceServer} from '../fixtures/servers.js';
import {createTokenSource, oauthHooks, TokenError, type OAuthConfig, type SigningKey} from '../source/index.js';
import {apiResource, secrets, startTestAuthorizationServer, testKeys, type TestAuthorizationServer, type TestServerOptions, startWithApi, callApi, type ApiBody} from './helpers/authorization-server.js';
import {thumbprint} from './helpers/certificates.js';

const assertionOf = (server: TestAuthorizationServer, index = 0): string => String(server.tokenRequests[index]!.form.client_assertion);

const keys = testKeys();
const privateKeyCases: Array<[clientId: string, alg: string, form: string, key: (kid: string) => SigningKey | Promise<SigningKey>]> = [
	['rs256', 'RS256', 'a PKCS#8 PEM string', kid => ({key: keys.rsa.export({format: 'pem', type: 'pkcs8'}) as string, kid})],
	['ps256', 'PS256', 'a KeyObject', kid => ({key: keys.rsa, alg: 'PS256', kid})],
	['es256', 'ES256', 'a JWK carrying its kid', async kid => ({...await exportJWK(keys.ec), kid})],
	['eddsa', 'EdDSA', 'an Ed25519 KeyObject', kid => ({key: keys.ed25519, kid})],
];
const kids: Record<string, string> = {rs256: 'rsa-1', ps256: 'rsa-1', es256: 'ec-1', eddsa: 'ed-1'};

for (const [clientId, alg, form, key] of privateKeyCases) {
	test(`private_key_jwt with ${alg}, the key as ${form}: iss = sub = client id, aud = token endpoint, kid passed through`, async t => {
		const {server, api} = await startWithApi(t);

		const body = await callApi(api, {tokenEndpoint: server.tokenEndpoint, clientId, privateKey: await key(kids[clientId]!)});

		t.like(body, {ok: true, clientId});
		const assertion = assertionOf(server);
		t.deepEqual(decodeProtectedHeader(assertion), {alg, kid: kids[clientId]});
		const claims = decodeJwt(assertion);
		t.like(claims, {iss: clientId, sub: clientId, aud: server.tokenEndpoint});
		t.is(claims.exp! - claims.iat!, 60);
		t.regex(claims.jti!, /^[\d\-a-f]{36}$/v);
		t.like(server.tokenRequests[0]!.form, {client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'});
		t.is(server.tokenRequests[0]!.headers.authorization, undefined);
	});
}

test('private_key_jwt: the provider rejects a replayed assertion', async t => {
	const {server} = await startWithApi(t);
	await createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'es256', privateKey: keys.ec}).getToken();

	const replay = await got.post(server.tokenEndpoint, {
		form: {...server.tokenRequests[0]!.form},
		throwHttpErrors: false,
	}).json<{error: string}>();

	t.is(replay.error, 'invalid_client');
	t.is(server.tokenRequests[1]!.errorDetail, 'client assertion tokens must only be used once');
});

test('private_key_jwt: ours is never replayed — a new assertion for every token request and for every retry of one', async t => {
	const {server} = await startWithApi(t);
	const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'es256', privateKey: keys.ec, tokenRequest: {retry: {backoffLimit: 1}}});

	for (let index = 0; index < 3; index++) {
		await source.getToken();
		source.invalidate(source.peek()!);
	}

	// The provider handles the next two requests, spending their assertions, but the client sees 503s and retries.
	server.failNextTokenResponses(2);
	await source.getToken();

	const jtis = server.tokenRequests.map(request => decodeJwt(String(request.form.client_assertion)).jti);
	t.is(jtis.length, 6);
	t.is(new Set(jtis).size, 6);
	t.true(server.tokenRequests.every(request => request.status === 200));
});

test('private_key_jwt with a wrong key is invalid_client', async t => {
	const {server} = await startWithApi(t);
	const error = await t.throwsAsync(createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'es256', privateKey: keys.serviceAccount}).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_client');
});

test('client_secret_jwt: an HS256 assertion over the secret; the secret itself is not sent', async t => {
	const {server, api} = await startWithApi(t);

	const body = await callApi(api, {tokenEndpoint: server.tokenEndpoint, clientId: 'secret-jwt', clientSecret: secrets.jwt, clientAuthentication: 'client_secret_jwt'});

	t.like(body, {ok: true, clientId: 'secret-jwt'});
	t.deepEqual(decodeProtectedHeader(assertionOf(server)), {alg: 'HS256'});
	t.like(decodeJwt(assertionOf(server)), {iss: 'secret-jwt', sub: 'secret-jwt'});
	t.false(JSON.stringify(server.tokenRequests).includes(secrets.jwt));
});

test('none: a public client sends its client_id in the form and nothing else', async t => {
	const {server, api} = await startWithApi(t);

	const body = await callApi(api, {tokenEndpoint: server.tokenEndpoint, clientId: 'app', clientAuthentication: 'none'});

	t.like(body, {ok: true, clientId: 'app'});
	t.deepEqual(server.tokenRequests[0]!.form, {grant_type: 'client_credentials', client_id: 'app'});
	t.is(server.tokenRequests[0]!.headers.authorization, undefined);
});

test('tls_client_auth: the CA-signed client certificate authenticates, over HTTPS, and the token is bound to it (RFC 8705)', async t => {
	const {server, api} = await startWithApi(t, {mtls: true});
	const {pki} = server;

	const body = await callApi(api, {
		tokenEndpoint: server.mtlsTokenEndpoint!,
		clientId: 'mtls',
		clientAuthentication: 'tls_client_auth',
		tokenRequest: {https: {certificate: pki!.client.certificate, key: pki!.client.key, certificateAuthority: pki!.ca}},
	});

	t.like(body, {ok: true, clientId: 'mtls'});
	const [request] = server.tokenRequests;
	t.is(request!.via, 'mtls');
	t.deepEqual(request!.form, {grant_type: 'client_credentials', client_id: 'mtls'});
});

test('tls_client_auth: the access token carries the certificate\'s thumbprint', async t => {
	const {server} = await startWithApi(t, {mtls: true});
	const {pki} = server;

	const token = await createTokenSource({
		tokenEndpoint: server.mtlsTokenEndpoint!,
		clientId: 'mtls',
		tokenRequest: {https: {certificate: pki!.client.certificate, key: pki!.client.key, certificateAuthority: pki!.ca}},
	}).getToken();

	t.deepEqual(decodeJwt(token).cnf, {'x5t#S256': thumbprint(pki!.client.certificate)});
});

test('tls_client_auth: a certificate the CA did not sign is invalid_client', async t => {
	const {server} = await startWithApi(t, {mtls: true});
	const {pki} = server;

	const error = await t.throwsAsync(createTokenSource({
		tokenEndpoint: server.mtlsTokenEndpoint!,
		clientId: 'mtls',
		clientAuthentication: 'tls_client_auth',
		tokenRequest: {https: {certificate: pki!.selfSigned.certificate, key: pki!.selfSigned.key, certificateAuthority: pki!.ca}},
	}).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_client');
});

test('self_signed_tls_client_auth: the registered self-signed certificate authenticates', async t => {
	const {server, api} = await startWithApi(t, {mtls: true});
	const {pki} = server;

	const body = await callApi(api, {
		tokenEndpoint: server.mtlsTokenEndpoint!,
		clientId: 'self-signed',
		clientAuthentication: 'self_signed_tls_client_auth',
		tokenRequest: {https: {certificate: pki!.selfSigned.certificate, key: pki!.selfSigned.key, certificateAuthority: pki!.ca}},
	});

	t.like(body, {ok: true, clientId: 'self-signed'});
	t.is(server.tokenRequests[0]!.via, 'mtls');
});

test('the client certificate goes to the token endpoint only: an HTTPS API asking for one gets none', async t => {
	const {server} = await startWithApi(t, {mtls: true});
	const pki = server.pki!;
	const presented: boolean[] = [];
	const apiServer = createHttpsServer({key: pki.server.key, cert: pki.server.certificate, ca: pki.ca, requestCert: true, rejectUnauthorized: false}, (request, response) => {
		presented.push((request.socket as TLSSocket).getPeerCertificate().raw !== undefined);
		response.end('ok');
	});
	apiServer.listen(0, '127.0.0.1');
	await once(apiServer, 'listening');
	t.teardown(async () => close(apiServer));

	const api = got.extend({
		prefixUrl: `https://127.0.0.1:${(apiServer.address() as AddressInfo).port}`,
		https: {certificateAuthority: pki.ca},
	}, oauthHooks({
		tokenEndpoint: server.mtlsTokenEndpoint!,
		clientId: 'mtls',
		tokenRequest: {https: {certificate: pki.client.certificate, key: pki.client.key, certificateAuthority: pki.ca}},
	}));

	t.is(await api('reports').text(), 'ok');
	t.deepEqual(presented, [false]);
	t.is(server.tokenRequests[0]!.status, 200);
});
