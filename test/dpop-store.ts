/*
DPoP with a shared store (a real redis-server): a token bound to one key is useless to a process holding another, so the store keeps the key with the token, sealed alike, and a process that adopts the token adopts its key.
*/
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {calculateJwkThumbprint, decodeProtectedHeader} from 'jose';
import {createTokenSource, oauthHooks, type OAuthConfig} from '../source/index.js';
import {DpopKey} from '../source/dpop/key.js';
import {redisTokenStore} from '../source/stores/redis.js';
import {deriveStoreKeys, sealEntry} from '../source/stores/sealed-entry.js';
import {SharedTokenCache, type StoreEvent} from '../source/stores/shared-token-cache.js';
import {apiResource, secrets, startTestAuthorizationServer} from './helpers/authorization-server.js';
import {startDpopResourceServer} from './helpers/dpop-resource-server.js';
import {connectClient, startRedisServer} from './helpers/redis-server.js';

type ApiBody = {ok: boolean; jkt: string};

async function setup(t: ExecutionContext) {
	const redis = await startRedisServer();
	t.teardown(async () => redis.stop());
	const server = await startTestAuthorizationServer();
	t.teardown(async () => server.close());
	const api = await startDpopResourceServer({issuer: server.issuer, audience: apiResource});
	t.teardown(async () => api.close());
	/** One process's view: its own Redis connection and token source. */
	const process = async (config: Partial<OAuthConfig> = {}) => {
		const connection = await connectClient('ioredis', redis);
		t.teardown(() => {
			connection.close();
		});
		const source = createTokenSource({tokenEndpoint: server.tokenEndpoint, clientId: 'basic', clientSecret: secrets.basic, dpop: true, store: redisTokenStore(connection.client), ...config});
		return {source, client: got.extend({prefixUrl: api.url}, oauthHooks(source)), connection};
	};

	return {server, api, process};
}

test('a second process adopts the stored token and its key: its proofs verify, and no second token is fetched', async t => {
	const {server, api, process} = await setup(t);
	const first = await process();
	const second = await process();

	const firstBody = await first.client('from-first').json<ApiBody>();
	const secondBody = await second.client('from-second').json<ApiBody>();

	t.is(server.tokenRequests.length, 1);
	t.deepEqual(api.requests.map(request => request.outcome), ['ok', 'ok']);
	t.is(secondBody.jkt, firstBody.jkt);
	const [firstProofKey, secondProofKey] = await Promise.all(api.requests.map(async request => calculateJwkThumbprint(decodeProtectedHeader(request.proof!).jwk!)));
	t.is(secondProofKey, firstProofKey);
	const adopted = await second.source.getTokenDetails();
	t.is(adopted.tokenType, 'DPoP');
	t.is(adopted.dpopKey!.jkt, firstBody.jkt);
});

test('what Redis holds shows neither the token nor the key', async t => {
	const {api, process} = await setup(t);
	const first = await process();
	await first.client('reports');

	const keys = await first.connection.command('KEYS', '*') as string[];
	const values = await Promise.all(keys.filter(key => key.endsWith(':token')).map(async key => first.connection.command('GET', key) as Promise<string>));

	t.is(values.length, 1);
	const {token, claims} = api.requests[0]!;
	const publicJwk = decodeProtectedHeader(api.requests[0]!.proof!).jwk!;
	for (const value of values) {
		t.false(value.includes(token!));
		t.false(value.includes(String(publicJwk.x)));
		t.false(value.includes('"kty"'));
		t.false(value.includes(String(claims!.jti)));
	}
});

test('a given key goes into the store too, and the adopting process, configured with another key, uses the token\'s', async t => {
	const {server, api, process} = await setup(t);
	const {generateKeyPairSync} = await import('node:crypto');
	const first = await process({dpop: {privateKey: generateKeyPairSync('ed25519').privateKey}});
	const second = await process({dpop: {privateKey: generateKeyPairSync('ed25519').privateKey}});

	await first.client('a');
	await second.client('b');

	t.is(server.tokenRequests.length, 1);
	t.deepEqual(api.requests.map(request => [request.outcome, decodeProtectedHeader(request.proof!).alg]), [['ok', 'EdDSA'], ['ok', 'EdDSA']]);
});

test('a stored entry whose DPoP key does not import is a miss, not a token without its key', async t => {
	const keys = deriveStoreKeys('a secret of thirty-two characters!!');
	const store = new Map<string, string>();
	const events: StoreEvent[] = [];
	const cache = new SharedTokenCache({store, cacheKey: 'k', keys, onEvent(event) {
		events.push(event);
	}});
	const key = `got-oauth:k.${keys.keyId}`;
	const entry = {accessToken: 'at-1', tokenType: 'DPoP', expiresAt: Date.now() + 60_000, usableUntil: Date.now() + 30_000};
	const good = await DpopKey.generate('ES256', true);

	store.set(key, sealEntry(keys, key, {...entry, dpopKey: await good.toStoredJwk()}));
	const adopted = await cache.read();
	t.is(adopted?.tokenSet.dpopKey?.jkt, good.jkt);
	for (const dpopKey of [{kty: 'EC', alg: 'ES256'}, {...await good.toStoredJwk(), alg: 'HS256'}, {kty: 'oct', k: 'c2VjcmV0', alg: 'ES256'}]) {
		store.set(key, sealEntry(keys, key, {...entry, dpopKey}));
		t.is(await cache.read(), undefined);
	}

	t.deepEqual(events.map(event => event.type === 'store-miss' ? event.reason : event.type), ['store-hit', 'unreadable', 'unreadable', 'unreadable']);
});
