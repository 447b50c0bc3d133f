/*
A Keyv store (keyv + @keyv/redis) shares tokens between processes without a lock; what it stores is sealed the same way, and a Redis that dies under it costs a timeout, never a failed call.
*/
import {createHash, randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import {deriveStoreKeys, openEntry} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache, type StoreEvent} from '../../source/stores/shared-token-cache.js';
import {connectClient, startRedisServer, type RedisServer} from '../helpers/redis-server.js';
import {accessTokenOf, fetcher, recorder} from '../helpers/shared-tokens.js';

const keys = deriveStoreKeys('client-secret');

/** One Keyv on its own connection, as each process would have. */
function keyvOf(t: ExecutionContext, server: RedisServer): Keyv {
	const adapter = new KeyvRedis(server.url, {throwOnConnectError: false});
	const keyv = new Keyv(adapter);
	keyv.on('error', () => undefined);
	t.teardown(async () => adapter.disconnect(true).catch(() => undefined));
	return keyv;
}

async function setup(t: ExecutionContext) {
	const server = await startRedisServer();
	t.teardown(async () => server.stop());
	const cacheKey = createHash('sha256').update(randomUUID()).digest('base64url');
	const events: StoreEvent[] = [];
	const cache = (timeout = 5000) => new SharedTokenCache({store: keyvOf(t, server), cacheKey, keys, timeout, onEvent: recorder(events)});
	return {server, cacheKey, events, cache};
}

test('two processes share one token through Keyv: one fetches, the other adopts', async t => {
	const {server, cacheKey, events, cache} = await setup(t);
	const fetch = fetcher();
	const a = cache();
	const b = cache();

	t.is(await accessTokenOf(a.fetchShared(fetch)), 'token-1');
	t.is(await accessTokenOf(b.fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.deepEqual(events.map(event => event.type), ['store-miss', 'store-write', 'store-hit']);

	// What Keyv put in Redis: its own JSON around our sealed value, for the token's usable life, and no token in it.
	const redis = await connectClient('ioredis', server);
	t.teardown(() => {
		redis.close();
	});
	const [key, ...others] = await redis.command('KEYS', `*${cacheKey}*`) as string[];
	t.deepEqual(others, []);
	t.true(key!.endsWith(`got-oauth:${cacheKey}.${keys.keyId}`));
	const raw = String(await redis.command('GET', key!));
	t.false(raw.includes('token-1'));
	const {value} = JSON.parse(raw) as {value: string};
	t.is(openEntry(keys, `got-oauth:${cacheKey}.${keys.keyId}`, value)?.accessToken, 'token-1');
	const pttl = Number(await redis.command('PTTL', key!));
	t.true(pttl > 3_530_000 && pttl <= 3_540_000, `${pttl}`);
});

test('without a lock, processes asking at once may each fetch, but never more than once each', async t => {
	const {cache} = await setup(t);
	const fetch = fetcher();
	const caches = [cache(), cache(), cache()];
	const tokens = await Promise.all(caches.map(async shared => shared.fetchShared(fetch)));
	t.true(fetch.calls >= 1 && fetch.calls <= 3);
	t.true(tokens.every(({tokenSet}) => tokenSet.accessToken.startsWith('token-')));
});

test('a rejected token is deleted through Keyv only while it is the stored one', async t => {
	const {cache} = await setup(t);
	const a = cache();
	const b = cache();
	await a.fetchShared(fetcher());

	t.false(await b.invalidate('token-other'));
	t.is(await accessTokenOf(b.read()), 'token-1');
	t.true(await b.invalidate('token-1'));
	t.is(await a.read(), undefined);
});

test('a Redis killed under Keyv: the call still gets a token, within the timeouts, and the store is then skipped', async t => {
	const {server, events, cache} = await setup(t);
	const timeout = 300;
	const shared = cache(timeout);
	const fetch = fetcher();
	await shared.fetchShared(fetch);
	await server.kill();

	const started = performance.now();
	t.is(await accessTokenOf(shared.fetchShared(fetch, {replacing: 'token-1'})), 'token-2');
	// A read and a write at most, each bounded.
	t.true(performance.now() - started < (2 * timeout) + 500, `${performance.now() - started} ms`);
	t.is(fetch.calls, 2);
	// Keyv answers a failed read as a miss; the write that follows cannot hide its failure.
	t.is(events.filter(event => event.type === 'store-failure').length, 1);
	t.is(await accessTokenOf(shared.fetchShared(fetch, {replacing: 'token-2'})), 'token-3');
	t.is(events.at(-1)?.type, 'store-skipped');
});
