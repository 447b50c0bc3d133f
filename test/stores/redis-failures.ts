/*
Redis paused, killed, or out of memory: every call still gets a token, a failing Redis costs one timeout and is then skipped for the back-off, and it is used again afterwards. Each test has a redis-server of its own to break.
*/
import {createHash, randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import {redisTokenStore} from '../../source/stores/redis.js';
import {deriveStoreKeys} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache, type StoreEvent} from '../../source/stores/shared-token-cache.js';
import type {TokenStore} from '../../source/stores/store.js';
import {clientKinds, connectClient, startRedisServer, type ClientKind, type RedisServer, type TestClient} from '../helpers/redis-server.js';
import {accessTokenOf, counted, fetcher, recorder, type Fetcher} from '../helpers/shared-tokens.js';

const keys = deriveStoreKeys('client-secret');
/** Longer than the default 250 ms, so that a machine busy with the other test files does not time out the calls that should succeed. */
const timeout = 1000;

type Setup = {
	server: RedisServer;
	cacheKey: string;
	redis: TestClient;
	store: TokenStore & {calls: string[]};
	events: StoreEvent[];
	fetch: Fetcher;
	cache: SharedTokenCache;
	/** Move the back-off clock on. */
	advance(milliseconds: number): void;
	/** Milliseconds one `fetchShared()` takes, replacing the last token. */
	timed(): Promise<number>;
};

async function setup(t: ExecutionContext, kind: ClientKind): Promise<Setup> {
	const server = await startRedisServer();
	t.teardown(async () => server.stop());
	const redis = await connectClient(kind, server);
	t.teardown(() => {
		redis.close();
	});
	// The first commands on a connection pay for its setup; not what is measured.
	await redis.command('PING');
	const store = counted(redisTokenStore(redis.client, {timeout}));
	const events: StoreEvent[] = [];
	const fetch = fetcher();
	let offset = 0;
	const cacheKey = createHash('sha256').update(randomUUID()).digest('base64url');
	const cache = new SharedTokenCache({store, cacheKey, keys, clock: () => performance.now() + offset, onEvent: recorder(events)});
	return {
		server,
		cacheKey,
		redis,
		store,
		events,
		fetch,
		cache,
		advance(milliseconds) {
			offset += milliseconds;
		},
		async timed() {
			const started = performance.now();
			await cache.fetchShared(fetch, {replacing: `token-${fetch.calls}`});
			return performance.now() - started;
		},
	};
}

const count = (events: StoreEvent[], type: string) => events.filter(event => event.type === type).length;

for (const kind of clientKinds) {
	test(`a paused Redis costs one timeout, is skipped during the back-off, and is used again once it answers (${kind})`, async t => {
		const {server, cacheKey, store, events, fetch, cache, advance, timed} = await setup(t, kind);
		await cache.fetchShared(fetch);
		t.is(count(events, 'store-write'), 1);
		const callsBefore = store.calls.length;

		server.pause();
		const durations = [await timed(), await timed(), await timed(), await timed(), await timed()];
		// One timeout, not two; and the skipped calls pay none (bounds loose for a busy machine: the counts below are exact).
		t.true(durations[0]! >= timeout - 5 && durations[0]! < timeout + 900, `first call: ${durations[0]} ms`);
		for (const duration of durations.slice(1)) {
			t.true(duration < timeout / 2, `skipped call: ${duration} ms`);
		}

		// One store call paid the timeout; the other four never reached the store.
		t.is(store.calls.length - callsBefore, 1);
		t.is(fetch.calls, 6);
		t.deepEqual(events.filter(event => event.type === 'store-failure'), [{type: 'store-failure', operation: 'get', reason: 'timeout'}]);
		t.is(count(events, 'store-skipped'), 4);

		// Back, and past the back-off: the next token this process needs is the fleet's again.
		server.resume();
		advance(1000);
		t.is(await accessTokenOf(cache.fetchShared(fetch, {replacing: 'token-6'})), 'token-1');
		t.is(store.calls.length - callsBefore, 2);
		t.is(fetch.calls, 6);
		t.is(events.at(-1)?.type, 'store-hit');
		const otherRedis = await connectClient(kind, server);
		t.teardown(() => {
			otherRedis.close();
		});
		const other = new SharedTokenCache({store: redisTokenStore(otherRedis.client), cacheKey, keys});
		t.is(await accessTokenOf(other.read()), 'token-1');
	});

	test(`a killed Redis: every call gets a token, one timeout at most, then the store is skipped (${kind})`, async t => {
		const {server, store, events, fetch, cache, timed} = await setup(t, kind);
		await cache.fetchShared(fetch);
		const callsBefore = store.calls.length;

		await server.kill();
		const durations = [await timed(), await timed(), await timed()];
		t.true(durations[0]! < timeout + 900, `first call: ${durations[0]} ms`);
		t.true(durations[1]! < timeout / 2 && durations[2]! < timeout / 2, `skipped calls: ${durations.slice(1).join(', ')} ms`);
		t.is(fetch.calls, 4);
		t.is(store.calls.length - callsBefore, 1);
		t.is(count(events, 'store-failure'), 1);
		t.is(count(events, 'store-skipped'), 2);
	});

	test(`a Redis out of memory: the token is fetched directly, the store skipped, and used again when it has room (${kind})`, async t => {
		const {redis, store, events, fetch, cache, advance} = await setup(t, kind);
		await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
		await redis.command('CONFIG', 'SET', 'maxmemory', '1');

		t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-1');
		t.deepEqual(events, [
			{type: 'store-miss', reason: 'absent'},
			{type: 'store-failure', operation: 'acquireLock', reason: 'OOM'},
		]);
		t.deepEqual(store.calls, ['get', 'acquireLock']);
		t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-2');
		t.deepEqual(store.calls, ['get', 'acquireLock']);

		await redis.command('CONFIG', 'SET', 'maxmemory', '0');
		advance(1000);
		t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-3');
		t.is(count(events, 'store-write'), 1);
		t.is(await accessTokenOf(cache.read()), 'token-3');
	});
}
