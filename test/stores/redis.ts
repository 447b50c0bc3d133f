/*
redisTokenStore against a real redis-server, with node-redis and with ioredis: the lock, compare-and-delete, TTLs, key names, what a value reveals, and several processes (one cache and one connection each) sharing one token.
*/
import {createHash, randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import {RESP_TYPES} from 'redis';
import {redisTokenStore, type RedisClient, type RedisTokenStoreOptions} from '../../source/stores/redis.js';
import {deriveStoreKeys, openEntry, sealEntry, tokenFingerprint, type StoreKeys} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache, type SharedToken, type StoreEvent} from '../../source/stores/shared-token-cache.js';
import {deferred} from '../helpers/fakes.js';
import {accessTokenOf, fetcher, recorder, sharedToken as token} from '../helpers/shared-tokens.js';
import {clientKinds, connectClient, startRedisServer, type ClientKind, type RedisServer, type TestClient} from '../helpers/redis-server.js';

let server: RedisServer;

test.before(async () => {
	server = await startRedisServer();
});

test.after.always(async () => {
	await server?.stop();
});

const keys = deriveStoreKeys('client-secret');

/** Tests run at once on one server: each works under its own cache key. */
const uniqueCacheKey = (): string => createHash('sha256').update(randomUUID()).digest('base64url');

type Context = {
	readonly kind: ClientKind;
	readonly cacheKey: string;
	/** The logical key a store is given: cache key and key id. */
	readonly storeKey: string;
	connect(): Promise<TestClient>;
	cache(client: RedisClient, options?: RedisTokenStoreOptions & {events?: StoreEvent[]; lockLease?: number; cacheKey?: string; keys?: StoreKeys}): SharedTokenCache;
};

type Body = (t: ExecutionContext, context: Context) => Promise<void>;

async function runWith(kind: ClientKind, t: ExecutionContext, body: Body): Promise<void> {
	const cacheKey = uniqueCacheKey();
	const clients: TestClient[] = [];
	t.teardown(() => {
		for (const client of clients) {
			client.close();
		}
	});
	await body(t, {
		kind,
		cacheKey,
		storeKey: `${cacheKey}.${keys.keyId}`,
		async connect() {
			const client = await connectClient(kind, server);
			clients.push(client);
			return client;
		},
		cache(client, {events, lockLease, cacheKey: otherCacheKey, keys: otherKeys, ...storeOptions} = {}) {
			return new SharedTokenCache({
				// What is tested here is not the timeout: a generous one keeps a busy machine from turning these tests into fallbacks.
				store: redisTokenStore(client, {lockLease, timeout: 5000, ...storeOptions}),
				cacheKey: otherCacheKey ?? cacheKey,
				keys: otherKeys ?? keys,
				onEvent: events === undefined ? undefined : recorder(events),
			});
		},
	});
}

/** The test, once with each client library. */
function withBothClients(title: string, body: Body): void {
	for (const kind of clientKinds) {
		test(`${title} (${kind})`, async t => {
			await runWith(kind, t, body);
		});
	}
}

const tokenKey = (storeKey: string, prefix = 'got-oauth:') => `${prefix}{${storeKey}}:token`;
const lockKey = (storeKey: string, prefix = 'got-oauth:') => `${prefix}{${storeKey}}:lock`;

withBothClients('a lock is held by one owner at a time, for its lease, and released only by its owner', async (t, {connect, storeKey}) => {
	const {client, command} = await connect();
	const store = redisTokenStore(client);

	t.true(await store.acquireLock(storeKey, 'owner-a', 5000));
	t.false(await store.acquireLock(storeKey, 'owner-b', 5000));
	t.false(await store.releaseLock(storeKey, 'owner-b'));
	t.is(await command('GET', lockKey(storeKey)), 'owner-a');
	const pttl = Number(await command('PTTL', lockKey(storeKey)));
	t.true(pttl > 4000 && pttl <= 5000, `${pttl}`);

	t.true(await store.releaseLock(storeKey, 'owner-a'));
	t.is(await command('EXISTS', lockKey(storeKey)), 0);
	t.true(await store.acquireLock(storeKey, 'owner-b', 5000));
	t.false(await store.releaseLock(storeKey, 'owner-a'));
	t.is(await command('GET', lockKey(storeKey)), 'owner-b');
});

withBothClients('a lock lapses after its lease, not before', async (t, {connect, storeKey}) => {
	const {client} = await connect();
	const store = redisTokenStore(client);
	// Taken after this instant, so it cannot lapse less than 300 ms after it.
	const lockedAt = performance.now();
	t.true(await store.acquireLock(storeKey, 'owner-a', 300));
	while (!await store.acquireLock(storeKey, 'owner-b', 300)) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	const lapsedAfter = performance.now() - lockedAt;
	t.true(lapsedAfter >= 295, `${lapsedAfter} ms`);
	t.false(await store.releaseLock(storeKey, 'owner-a'));
	t.true(await store.releaseLock(storeKey, 'owner-b'));
});

withBothClients('compare-and-delete deletes the entry only for its fingerprint', async (t, {connect, storeKey}) => {
	const {client, command} = await connect();
	const store = redisTokenStore(client);
	const value = sealEntry(keys, storeKey, {accessToken: 'token-1', tokenType: 'Bearer', expiresAt: Date.now() + 60_000, usableUntil: Date.now() + 30_000});
	await store.set(storeKey, value, 60_000);

	t.false(await store.deleteIfFingerprint(storeKey, tokenFingerprint(keys, 'token-2')));
	t.false(await store.deleteIfFingerprint(storeKey, ''));
	t.is(await store.get(storeKey), value);
	t.true(await store.deleteIfFingerprint(storeKey, tokenFingerprint(keys, 'token-1')));
	t.is(await command('EXISTS', tokenKey(storeKey)), 0);
	t.is(await store.get(storeKey), undefined);
	t.false(await store.deleteIfFingerprint(storeKey, tokenFingerprint(keys, 'token-1')));

	// Something that is not a value has no fingerprint to match.
	await command('SET', tokenKey(storeKey), 'garbage');
	t.false(await store.deleteIfFingerprint(storeKey, 'garbage'));
	t.is(await store.get(storeKey), 'garbage');
});

withBothClients('set stores for whole milliseconds, at least one', async (t, {connect, storeKey}) => {
	const {client, command} = await connect();
	const store = redisTokenStore(client);
	await store.set(storeKey, 'value', 100_000.2);
	const pttl = Number(await command('PTTL', tokenKey(storeKey)));
	t.true(pttl > 90_000 && pttl <= 100_001, `${pttl}`);
	await store.set(storeKey, 'value', 0.5);
	// 1 ms, or already gone (-2).
	const pttl1 = Number(await command('PTTL', tokenKey(storeKey)));
	t.true(pttl1 <= 1);
});

withBothClients('an entry lives in Redis for the token\'s usable life', async (t, {connect, cache, storeKey}) => {
	const {client, command} = await connect();
	await cache(client).fetchShared(fetcher());
	const pttl = Number(await command('PTTL', tokenKey(storeKey)));
	// 3600 s less the 60 s margin.
	t.true(pttl > 3_530_000 && pttl <= 3_540_000, `${pttl}`);
});

withBothClients('keys are hash-tagged: an entry and its lock share one Redis Cluster slot', async (t, {connect, cache, cacheKey, storeKey}) => {
	const {client, command} = await connect();
	const keysNow = async () => (await command('KEYS', `*${cacheKey}*`) as string[]).toSorted();
	let keysWhileFetching: string[] = [];
	await cache(client).fetchShared(fetcher(async call => {
		keysWhileFetching = await keysNow();
		return token(call);
	}));

	t.deepEqual(keysWhileFetching, [lockKey(storeKey)]);
	t.deepEqual(await keysNow(), [tokenKey(storeKey)]);
	// Redis hashes what lies between the first `{` and the next `}`.
	const hashTag = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}'));
	t.is(hashTag(lockKey(storeKey)), storeKey);
	t.is(hashTag(tokenKey(storeKey)), storeKey);

	await cache(client, {prefix: 'app:tokens:'}).fetchShared(fetcher(), {replacing: 'token-1'});
	t.deepEqual(await keysNow(), [tokenKey(storeKey, 'app:tokens:'), tokenKey(storeKey)].toSorted());
});

withBothClients('a changed, cut or moved entry is a miss, and is overwritten', async (t, {connect, cache, storeKey}) => {
	const {client, command} = await connect();
	await cache(client).fetchShared(fetcher(() => token('original')));
	const original = String(await command('GET', tokenKey(storeKey)));
	const middle = Math.floor(original.length / 2);
	const flipped = original.slice(0, middle) + (original[middle] === 'A' ? 'B' : 'A') + original.slice(middle + 1);

	const elsewhere = uniqueCacheKey();
	await cache(client, {cacheKey: elsewhere}).fetchShared(fetcher(() => token('elsewhere')));
	const moved = String(await command('GET', tokenKey(`${elsewhere}.${keys.keyId}`)));

	for (const [name, value] of [['flipped', flipped], ['cut', original.slice(0, -5)], ['moved', moved], ['garbage', '\u{0}garbage']]) {
		await command('SET', tokenKey(storeKey), value!, 'PX', '60000');
		const events: StoreEvent[] = [];
		const fetch = fetcher(() => token(name!));
		t.is(await accessTokenOf(cache(client, {events}).fetchShared(fetch)), `token-${name}`, name);
		t.is(fetch.calls, 1);
		t.deepEqual(events[0], {type: 'store-miss', reason: 'unreadable'});
		const stored = await command('GET', tokenKey(storeKey));
		t.is(openEntry(keys, storeKey, stored)?.accessToken, `token-${name}`);
	}
});

withBothClients('eight processes asking at once: one token request, one token for all', async (t, {connect, cache}) => {
	const events: StoreEvent[] = [];
	const clients = await Promise.all(Array.from({length: 8}, async () => connect()));
	const caches = clients.map(({client}) => cache(client, {events}));
	const fetch = fetcher(async call => {
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
		return token(call);
	});

	const tokens = await Promise.all(caches.map(async shared => shared.fetchShared(fetch)));
	t.is(fetch.calls, 1);
	t.deepEqual(new Set(tokens.map(({tokenSet}) => tokenSet.accessToken)), new Set(['token-1']));
	const count = (type: string) => events.filter(event => event.type === type).length;
	t.is(count('lock-acquired'), 1);
	t.is(count('lock-wait'), 7);
	t.is(count('store-hit'), 7);
	t.is(count('store-failure'), 0);
});

withBothClients('a holder that hangs is taken over after its lease, and cannot release its successor\'s lock', async (t, {connect, cache, storeKey}) => {
	const {client, command} = await connect();
	const {client: clientB} = await connect();
	const lease = 1000;
	const eventsB: StoreEvent[] = [];
	const fetchA = deferred<SharedToken>();
	const fetchB = deferred<SharedToken>();
	const fetchBCalled = deferred<number>();
	// A's lock is taken after this instant, so it cannot lapse less than `lease` after it.
	const startedA = performance.now();
	const resultA = cache(client, {lockLease: lease}).fetchShared(async () => fetchA.promise);

	let ownerA: unknown;
	while (ownerA === null || ownerA === undefined) {
		ownerA = await command('GET', lockKey(storeKey));
	}

	const resultB = cache(clientB, {lockLease: lease, events: eventsB}).fetchShared(async () => {
		fetchBCalled.resolve(performance.now());
		return fetchB.promise;
	});
	const takenOverAt = await fetchBCalled.promise;
	t.true(takenOverAt - startedA >= lease, `${takenOverAt - startedA} ms`);
	const ownerB = await command('GET', lockKey(storeKey));
	t.truthy(ownerB);
	t.not(ownerB, ownerA);

	// A's token request ends at last: it stores its token, and leaves B's lock alone.
	fetchA.resolve(token('a'));
	t.is(await accessTokenOf(resultA), 'token-a');
	t.is(await command('GET', lockKey(storeKey)), ownerB);

	fetchB.resolve(token('b'));
	t.is(await accessTokenOf(resultB), 'token-b');
	t.is(await command('EXISTS', lockKey(storeKey)), 0);
	t.deepEqual(eventsB.map(event => event.type), ['store-miss', 'lock-wait', 'lock-takeover', 'store-write']);
});

withBothClients('a rejected token is deleted only while it is the stored one', async (t, {connect, cache, storeKey}) => {
	const {client, command} = await connect();
	const a = cache(client);
	const {client: clientB} = await connect();
	const b = cache(clientB);
	await a.fetchShared(fetcher(() => token(1)));

	t.false(await b.invalidate('token-other'));
	t.is(await command('EXISTS', tokenKey(storeKey)), 1);
	t.true(await b.invalidate('token-1'));
	t.is(await command('EXISTS', tokenKey(storeKey)), 0);

	const fetch = fetcher(() => token(2));
	t.is(await accessTokenOf(b.fetchShared(fetch, {replacing: 'token-1'})), 'token-2');
	t.is(fetch.calls, 1);
	// A process still holding the old token rejects it late: the new one stays.
	t.false(await a.invalidate('token-1'));
	t.is(await accessTokenOf(a.read()), 'token-2');
});

test('a node-redis client that answers with Buffers works the same', async t => {
	const {client, close} = await connectClient('node-redis', server);
	t.teardown(close);
	const buffers = (client as unknown as {withTypeMapping(mapping: Record<number, unknown>): RedisClient}).withTypeMapping({
		[RESP_TYPES.BLOB_STRING]: Buffer,
		[RESP_TYPES.SIMPLE_STRING]: Buffer,
	});
	const cacheKey = uniqueCacheKey();
	const storeKey = `${cacheKey}.${keys.keyId}`;
	const store = redisTokenStore(buffers, {timeout: 5000});
	const fetch = fetcher();
	await new SharedTokenCache({store, cacheKey, keys}).fetchShared(fetch);
	t.is(await accessTokenOf(new SharedTokenCache({store, cacheKey, keys}).fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.true(await store.acquireLock(storeKey, 'owner', 1000));
	t.false(await store.acquireLock(storeKey, 'other', 1000));
	t.true(await store.releaseLock(storeKey, 'owner'));
});

test('a SET that does not answer OK is a failure', async t => {
	const {client, close} = await connectClient('ioredis', server);
	t.teardown(close);
	const answersNil = Object.assign(Object.create(client) as RedisClient, {set: async () => null});
	await t.throwsAsync(redisTokenStore(answersNil).set('key', 'value', 1000), {message: 'Redis SET did not answer OK'});
});
