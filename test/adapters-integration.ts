/*
The ky and fetch adapters against the servers the got tests use: oidc-provider issuing JWT access tokens, and an API verifying them. One token source serves got, ky and fetch at once.
*/
import test from 'ava';
import got from 'got';
import ky from 'ky';
import {oauthFetch} from '../source/fetch/index.js';
import {kyOAuthHooks} from '../source/ky/index.js';
import {TokenError, createTokenSource, oauthHooks, type OAuthConfig} from '../source/index.js';
import {adapters, statusOf} from './helpers/adapters.js';
import {otherApiResource, secrets, startWithApi, type ApiBody} from './helpers/authorization-server.js';

const basic = (tokenEndpoint: string, extra: Partial<OAuthConfig> = {}): OAuthConfig => ({tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, ...extra});

test('got, ky and fetch sharing one token source: 30 concurrent first calls, one token request', async t => {
	const {server, api} = await startWithApi(t);
	const source = createTokenSource(basic(server.tokenEndpoint));
	const viaGot = got.extend({prefixUrl: api.url}, oauthHooks(source));
	const viaKy = ky.create({prefix: api.url}).extend(kyOAuthHooks(source));
	const viaFetch = oauthFetch(source);

	const bodies = await Promise.all(Array.from({length: 10}, (_, index) => [
		viaGot(`got/${index}`).json<ApiBody>(),
		viaKy(`ky/${index}`).json<ApiBody>(),
		viaFetch(`${api.url}/fetch/${index}`).then(async response => response.json() as Promise<ApiBody>),
	]).flat());

	t.true(bodies.every(body => body.ok && body.clientId === 'basic'));
	t.is(server.tokenRequests.length, 1);
	t.is(api.calls, 30);
	t.deepEqual(api.rejections, []);
});

test('got, ky and fetch sharing one token source: a token revoked under all three is replaced once', async t => {
	const {server, api} = await startWithApi(t);
	const source = createTokenSource(basic(server.tokenEndpoint));
	const viaGot = got.extend({prefixUrl: api.url}, oauthHooks(source));
	const viaKy = ky.create({prefix: api.url}).extend(kyOAuthHooks(source));
	const viaFetch = oauthFetch(source);
	await source.getToken();
	api.revoke(source.peek()!);

	const statuses = await Promise.all([
		viaGot('got').then(response => response.statusCode),
		viaKy('ky').then(response => response.status),
		viaFetch(`${api.url}/fetch`).then(response => response.status),
	]);

	t.deepEqual(statuses, [200, 200, 200]);
	t.is(server.tokenRequests.length, 2);
	t.deepEqual(api.rejections, ['revoked', 'revoked', 'revoked']);
	t.is(api.calls, 6);
});

for (const adapter of adapters) {
	test(`${adapter.name}: 20 calls failing with the same revoked token cause one token request, and all 20 succeed`, async t => {
		const {server, api} = await startWithApi(t);
		const source = createTokenSource(basic(server.tokenEndpoint));
		const call = adapter.client(source);
		t.is(await statusOf(call(`${api.url}/prime`)), 200);
		const revoked = source.peek()!;
		api.revoke(revoked);

		const responses = await Promise.all(Array.from({length: 20}, async (_, index) => call(`${api.url}/item/${index}`)));

		t.true(responses.every(response => response.status === 200));
		t.is(server.tokenRequests.length, 2);
		t.deepEqual(api.rejections, Array.from({length: 20}, () => 'revoked'));
		t.is(api.calls, 1 + 20 + 20);
		t.not(source.peek(), revoked);
	});

	test(`${adapter.name}: an API that accepts none of the tokens gets exactly 2 requests per call`, async t => {
		// The API expects another audience: every token the client gets is refused.
		const {server, api} = await startWithApi(t, undefined, otherApiResource);
		const call = adapter.client(basic(server.tokenEndpoint));

		const responses = await Promise.all([call(`${api.url}/a`), call(`${api.url}/b`)]);

		t.deepEqual(responses.map(response => response.status), [401, 401]);
		t.is(api.calls, 4);
		t.is(server.tokenRequests.length, 2);
	});

	test(`${adapter.name}: a wrong secret gives TokenError invalid_client, and the API sees no request`, async t => {
		const {server, api} = await startWithApi(t);
		const call = adapter.client(basic(server.tokenEndpoint, {clientSecret: 'wrong secret'}));

		const error = await t.throwsAsync(call(`${api.url}/reports`), {instanceOf: TokenError});

		t.is(error.error, 'invalid_client');
		t.is(error.statusCode, 401);
		t.is(server.tokenRequests.length, 1);
		t.is(api.calls, 0);
	});
}
