/*
The fleet logic against an in-memory store that keeps the store contract, on a fake clock: what is read, adopted, locked, waited for, written, deleted, and what happens when the store fails. The token's times are the token source's (test/token-source.ts); here they are given.
*/
import test from 'ava';
import {deriveStoreKeys, openEntry, sealEntry, type StoredToken} from '../../source/stores/sealed-entry.js';
import {SharedTokenCache, type SharedToken, type SharedTokenCacheOptions, type StoreEvent} from '../../source/stores/shared-token-cache.js';
import type {KeyvStore, TokenStore} from '../../source/stores/store.js';
import {deferred, fakeClock, settle, type FakeClock} from '../helpers/fakes.js';
import {accessTokenOf, fetcher as countingFetcher, recorder, sharedToken, type Fetcher, type SharedTokenTimes} from '../helpers/shared-tokens.js';

const keys = deriveStoreKeys('client-secret');
const cacheKey = 'cache-key';
const storeKey = `${cacheKey}.${keys.keyId}`;
const start = 1_700_000_000_000;

/** The store contract in memory, on the test's clock; every call is recorded. */
class MemoryStore implements TokenStore {
	readonly values = new Map<string, {value: string; until: number}>();
	readonly locks = new Map<string, {owner: string; until: number}>();
	readonly calls: string[] = [];
	readonly ttls: number[] = [];

	constructor(private readonly clock: FakeClock, readonly lockLease?: number) {}

	async get(key: string) {
		this.calls.push('get');
		const stored = this.values.get(key);
		return stored !== undefined && this.clock() < stored.until ? stored.value : undefined;
	}

	async set(key: string, value: string, ttl: number) {
		this.calls.push('set');
		this.ttls.push(ttl);
		this.values.set(key, {value, until: this.clock() + ttl});
	}

	async deleteIfFingerprint(key: string, fingerprint: string) {
		this.calls.push('deleteIfFingerprint');
		const value = await this.get(key);
		this.calls.pop();
		if (value?.split('.', 2)[1] !== fingerprint) {
			return false;
		}

		this.values.delete(key);
		return true;
	}

	async acquireLock(key: string, owner: string, lease: number) {
		this.calls.push('acquireLock');
		const lock = this.locks.get(key);
		if (lock !== undefined && this.clock() < lock.until) {
			return false;
		}

		this.locks.set(key, {owner, until: this.clock() + lease});
		return true;
	}

	async releaseLock(key: string, owner: string) {
		this.calls.push('releaseLock');
		const lock = this.locks.get(key);
		if (lock?.owner !== owner || this.clock() >= lock.until) {
			return false;
		}

		this.locks.delete(key);
		return true;
	}

	isLocked(key = storeKey): boolean {
		const lock = this.locks.get(key);
		return lock !== undefined && this.clock() < lock.until;
	}

	stored(key = storeKey): StoredToken | undefined {
		return openEntry(keys, key, this.values.get(key)?.value);
	}
}

/** `token-<call>`, fetched at the test's start: expires an hour later, usable until a minute before. */
const token = (call: number | string, times: SharedTokenTimes = {}): SharedToken => sharedToken(call, {now: start, ...times});

function fetcher(answer: (call: number) => SharedToken | Promise<SharedToken> = call => token(call)): Fetcher {
	return countingFetcher(answer);
}

/** A sleep that moves the fake clock instead of waiting, and records each wait. */
function fakeSleep(clock: FakeClock, onSleep: (sleeps: number[]) => void = () => undefined) {
	const sleeps: number[] = [];
	const sleep = async (milliseconds: number, signal?: AbortSignal) => {
		signal?.throwIfAborted();
		sleeps.push(milliseconds);
		clock.advance(milliseconds);
		onSleep(sleeps);
		await settle();
		signal?.throwIfAborted();
	};

	return Object.assign(sleep, {sleeps});
}

function setup(options: Partial<SharedTokenCacheOptions> & {lockLease?: number} = {}) {
	const clock = fakeClock(start);
	const store = new MemoryStore(clock, options.lockLease);
	const events: StoreEvent[] = [];
	const sleep = fakeSleep(clock);
	const cache = (overrides: Partial<SharedTokenCacheOptions> = {}) => new SharedTokenCache({
		store,
		cacheKey,
		keys,
		now: clock,
		clock,
		sleep,
		onEvent: recorder(events),
		...options,
		...overrides,
	});
	return {clock, store, events, sleep, cache, types: () => events.map(event => event.type)};
}

const storedEntry = (accessToken: string, expiresAt: number, usableUntil = expiresAt): StoredToken => ({accessToken, tokenType: 'Bearer', expiresAt, usableUntil});

test('a miss takes the lock, fetches once, stores the token for its usable life and releases the lock', async t => {
	const {store, cache, types} = setup();
	const fetch = fetcher();
	const tokenSet = await cache().fetchShared(fetch);

	t.deepEqual(tokenSet, token(1));
	t.is(fetch.calls, 1);
	t.deepEqual(types(), ['store-miss', 'lock-acquired', 'store-write']);
	t.deepEqual(store.calls, ['get', 'acquireLock', 'get', 'set', 'releaseLock']);
	// 3600 s less the 60 s margin.
	t.deepEqual(store.ttls, [3_540_000]);
	t.deepEqual(store.stored(), {accessToken: 'token-1', tokenType: 'Bearer', expiresAt: start + 3_600_000, usableUntil: start + 3_540_000});
	t.false(store.isLocked());
});

test('another process adopts the stored token with the times its writer computed', async t => {
	const {clock, store, cache, types} = setup();
	await cache().fetchShared(fetcher(() => token(1, {scope: 'read'})));
	clock.advance(100_000);
	const fetch = fetcher();

	t.deepEqual(await cache().fetchShared(fetch), {
		tokenSet: {accessToken: 'token-1', tokenType: 'Bearer', scope: 'read'},
		expiresAt: start + 3_600_000,
		usableUntil: start + 3_540_000,
	});
	t.is(fetch.calls, 0);
	t.is(types().at(-1), 'store-hit');
	t.deepEqual(store.calls.slice(5), ['get']);
});

test('read() answers the usable stored token, or nothing', async t => {
	const {clock, cache, events} = setup();
	const reader = cache();
	t.is(await reader.read(), undefined);
	t.deepEqual(events, [{type: 'store-miss', reason: 'absent'}]);

	await cache().fetchShared(fetcher());
	t.is(await accessTokenOf(reader.read()), 'token-1');
	t.is(await reader.read({replacing: 'token-1'}), undefined);
	t.deepEqual(events.at(-1), {type: 'store-miss', reason: 'replacing'});
	clock.advance(3_540_000);
	t.is(await reader.read(), undefined);
});

test('the token being replaced is not adopted: a new one is fetched and overwrites it', async t => {
	const {store, cache, events} = setup();
	await cache().fetchShared(fetcher());
	const fetch = fetcher(() => token(2));

	t.is(await accessTokenOf(cache().fetchShared(fetch, {replacing: 'token-1'})), 'token-2');
	t.is(fetch.calls, 1);
	t.true(events.some(event => event.type === 'store-miss' && event.reason === 'replacing'));
	t.is(store.stored()?.accessToken, 'token-2');
});

test('a stored token past its usable time is a miss, even if the store still has it', async t => {
	const {clock, store, cache, events} = setup();
	store.values.set(storeKey, {value: sealEntry(keys, storeKey, storedEntry('old', start + 1000, start + 500)), until: Number.POSITIVE_INFINITY});
	clock.advance(500);
	const fetch = fetcher();

	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.deepEqual(events[0], {type: 'store-miss', reason: 'expired'});
	t.is(store.stored()?.accessToken, 'token-1');
});

test('an entry that does not open is a miss and is overwritten', async t => {
	const {store, cache, events} = setup();
	const value = sealEntry(keys, storeKey, storedEntry('good', start + 3_600_000));
	store.values.set(storeKey, {value: value.slice(0, -2), until: Number.POSITIVE_INFINITY});

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.deepEqual(events[0], {type: 'store-miss', reason: 'unreadable'});
	t.is(store.stored()?.accessToken, 'token-1');
});

test('an entry lives in the store for the usable time left when it is written', async t => {
	const {clock, store, cache} = setup();
	// A token usable for 30 s, whose request took 10 s of it.
	await cache().fetchShared(fetcher(() => {
		clock.advance(10_000);
		return token(1, {lifetime: 60_000, margin: 30_000});
	}));
	t.deepEqual(store.ttls, [20_000]);
	t.deepEqual(store.stored(), {accessToken: 'token-1', tokenType: 'Bearer', expiresAt: start + 60_000, usableUntil: start + 30_000});
});

test('a token with no usable time left is returned, and not stored', async t => {
	const {store, cache} = setup();
	const usableUntilNow = fetcher(() => token(1, {lifetime: 60_000, margin: 60_000}));
	t.is(await accessTokenOf(cache().fetchShared(usableUntilNow)), 'token-1');
	const past = fetcher(() => token(2, {now: start - 120_000, lifetime: 60_000, margin: 0}));
	t.is(await accessTokenOf(cache().fetchShared(past)), 'token-2');
	t.is(store.ttls.length, 0);
	t.false(store.isLocked());
});

test('a waiting process adopts the holder\'s token, reading at 50 ms, then 100 ms', async t => {
	const {clock, store, events} = setup();
	const holderFetch = deferred<SharedToken>();
	const sleep = fakeSleep(clock, sleeps => {
		if (sleeps.length === 2) {
			holderFetch.resolve(token('holder'));
		}
	});
	const make = () => new SharedTokenCache({store, cacheKey, keys, now: clock, clock, sleep, onEvent: recorder(events)});
	const holder = make().fetchShared(async () => holderFetch.promise);
	await settle();
	const waiterFetch = fetcher();
	const waiter = await make().fetchShared(waiterFetch);

	t.is(await accessTokenOf(holder), 'token-holder');
	t.deepEqual(waiter, token('holder'));
	t.is(waiterFetch.calls, 0);
	t.deepEqual(sleep.sleeps, [50, 100]);
	t.deepEqual(events.map(event => event.type), ['store-miss', 'lock-acquired', 'store-miss', 'lock-wait', 'store-write', 'store-hit']);
});

test('a holder that never stores is taken over when its lease lapses; the polls back off to 500 ms', async t => {
	const {clock, store, cache, sleep, types} = setup({lockLease: 2000});
	t.true(await store.acquireLock(storeKey, 'crashed', 2000));
	const fetch = fetcher();

	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.deepEqual(sleep.sleeps, [50, 100, 200, 400, 500, 500, 500]);
	t.true(clock() - start >= 2000);
	t.deepEqual(types(), ['store-miss', 'lock-wait', 'lock-takeover', 'store-write']);
	t.false(store.isLocked());
});

test('the lease comes from the store, and the option overrides it', async t => {
	for (const [storeLease, optionLease, expected] of [[2000, undefined, 2000], [undefined, 3000, 3000], [5000, 1000, 1000], [undefined, undefined, 10_000]] as const) {
		const {clock, store, sleep} = setup({lockLease: storeLease});
		const leases: number[] = [];
		const acquireLock = store.acquireLock.bind(store);
		store.acquireLock = async (key, owner, lease) => {
			leases.push(lease);
			return acquireLock(key, owner, lease);
		};

		const cache = new SharedTokenCache({store, cacheKey, keys, now: clock, clock, sleep, lockLease: optionLease});
		await cache.fetchShared(fetcher());
		t.deepEqual(leases, [expected]);
	}
});

test('a waiter takes over at once when the holder releases without a token, as after a failed request', async t => {
	const {store, cache, types} = setup();
	const failure = new Error('token endpoint down');
	const holderFetch = deferred<SharedToken>();
	const holder = cache().fetchShared(async () => holderFetch.promise);
	await settle();
	const waiterFetch = fetcher();
	const waiter = cache().fetchShared(waiterFetch);
	await settle();
	holderFetch.reject(failure);

	await t.throwsAsync(holder, {is: failure});
	t.is(await accessTokenOf(waiter), 'token-1');
	t.is(waiterFetch.calls, 1);
	t.true(types().includes('lock-takeover'));
	t.false(store.isLocked());
});

test('a failed token request releases the lock and rejects with its error', async t => {
	const {store, cache} = setup();
	const failure = new Error('invalid_client');
	await t.throwsAsync(cache().fetchShared(async () => {
		throw failure;
	}), {is: failure});
	t.false(store.isLocked());
	t.deepEqual(store.calls, ['get', 'acquireLock', 'get', 'releaseLock']);
});

test('a token stored between the read and the lock is adopted, not fetched again', async t => {
	const {store, cache, types} = setup();
	const acquireLock = store.acquireLock.bind(store);
	store.acquireLock = async (...arguments_) => {
		store.values.set(storeKey, {value: sealEntry(keys, storeKey, storedEntry('racer', start + 3_600_000, start + 3_540_000)), until: Number.POSITIVE_INFINITY});
		return acquireLock(...arguments_);
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'racer');
	t.is(fetch.calls, 0);
	t.deepEqual(types(), ['store-miss', 'lock-acquired', 'store-hit']);
	t.false(store.isLocked());
});

test('a lock that never lapses holds a waiter up for the lease and a second, then it fetches without the lock', async t => {
	const {clock, store, cache, sleep, types} = setup({lockLease: 3000});
	store.acquireLock = async () => false;
	const fetch = fetcher();

	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.is(clock() - start, 4000);
	t.is(sleep.sleeps.reduce((sum, milliseconds) => sum + milliseconds, 0), 4000);
	t.deepEqual(types(), ['store-miss', 'lock-wait', 'lock-wait-timeout', 'store-write']);
	t.is(store.stored()?.accessToken, 'token-1');
});

test('a waiter stops waiting when its signal aborts', async t => {
	const {clock, store, events} = setup();
	t.true(await store.acquireLock(storeKey, 'holder', 10_000));
	const controller = new AbortController();
	const reason = new Error('caller gave up');
	const sleep = fakeSleep(clock, sleeps => {
		if (sleeps.length === 3) {
			controller.abort(reason);
		}
	});
	const fetch = fetcher();
	const cache = new SharedTokenCache({store, cacheKey, keys, now: clock, clock, sleep, onEvent: recorder(events)});

	await t.throwsAsync(cache.fetchShared(fetch, {signal: controller.signal}), {is: reason});
	t.is(fetch.calls, 0);
	await t.throwsAsync(cache.fetchShared(fetch, {signal: controller.signal}), {is: reason});
	t.is(fetch.calls, 0);
});

test('the default sleep waits on a real timer, and an abort ends it', async t => {
	const clock = fakeClock(start);
	const store = new MemoryStore(clock);
	t.true(await store.acquireLock(storeKey, 'holder', 10_000));
	const controller = new AbortController();
	const reason = new Error('caller gave up');
	const reads: number[] = [];
	const get = store.get.bind(store);
	store.get = async key => {
		reads.push(performance.now());
		if (reads.length === 2) {
			controller.abort(reason);
		}

		return get(key);
	};

	const cache = new SharedTokenCache({store, cacheKey, keys, now: clock, clock});
	const fetch = fetcher();
	await t.throwsAsync(cache.fetchShared(fetch, {signal: controller.signal}), {is: reason});
	t.is(reads.length, 2);
	// The first poll waits 50 ms; a timer may fire a little early.
	t.true(reads[1]! - reads[0]! >= 45, `${reads[1]! - reads[0]!} ms`);
	t.is(fetch.calls, 0);

	// Aborted while the timer runs.
	const during = new AbortController();
	let abortedAt = 0;
	store.get = async key => {
		setTimeout(() => {
			abortedAt = performance.now();
			during.abort(reason);
		}, 10);
		return get(key);
	};

	await t.throwsAsync(cache.fetchShared(fetch, {signal: during.signal}), {is: reason});
	// At once, not when the 50 ms poll would have ended, 40 ms after the abort.
	t.true(performance.now() - abortedAt < 25, `${performance.now() - abortedAt} ms`);
});

test('a Keyv store shares without a lock: read, else fetch and write, under a prefixed key', async t => {
	const clock = fakeClock(start);
	const map = new Map<string, unknown>();
	const ttls: Array<number | undefined> = [];
	const keyv: KeyvStore = {
		get: async key => map.get(key),
		async set(key, value, ttl) {
			ttls.push(ttl);
			map.set(key, value);
			return true;
		},
		delete: async key => map.delete(key),
	};
	const events: StoreEvent[] = [];
	const make = () => new SharedTokenCache({store: keyv, cacheKey, keys, now: clock, clock, onEvent: recorder(events)});

	const fetch = fetcher();
	t.is(await accessTokenOf(make().fetchShared(fetch)), 'token-1');
	t.is(map.size, 1);
	t.true(map.has(`got-oauth:${storeKey}`));
	t.deepEqual(ttls, [3_540_000]);
	t.is(openEntry(keys, `got-oauth:${storeKey}`, map.get(`got-oauth:${storeKey}`))?.accessToken, 'token-1');
	t.is(await accessTokenOf(make().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.deepEqual(events.map(event => event.type), ['store-miss', 'store-write', 'store-hit']);
});

test('a Keyv store that answers null has nothing', async t => {
	const events: StoreEvent[] = [];
	const cache = new SharedTokenCache({store: {get: async () => null, set: async () => true, delete: async () => true}, cacheKey, keys, onEvent: recorder(events)});
	t.is(await cache.read(), undefined);
	t.deepEqual(events, [{type: 'store-miss', reason: 'absent'}]);
});

test('a Map is a Keyv store too', async t => {
	const map = new Map<string, string>();
	const make = () => new SharedTokenCache({store: map, cacheKey, keys, now: () => start});
	const fetch = fetcher();
	await make().fetchShared(fetch);
	t.is(await accessTokenOf(make().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
});

test('invalidate deletes the stored token only if it is the one rejected', async t => {
	const {store, cache, types} = setup();
	await cache().fetchShared(fetcher());
	const other = cache();

	t.false(await other.invalidate('token-other'));
	t.is(store.stored()?.accessToken, 'token-1');
	t.true(await other.invalidate('token-1'));
	t.is(store.stored(), undefined);
	t.false(await other.invalidate('token-1'));
	t.is(types().filter(type => type === 'store-delete').length, 1);
});

test('invalidate on a Keyv store: read, compare, delete', async t => {
	const map = new Map<string, string>();
	const cache = new SharedTokenCache({store: map, cacheKey, keys, now: () => start});
	await cache.fetchShared(fetcher());

	t.false(await cache.invalidate('token-other'));
	t.is(map.size, 1);
	t.true(await cache.invalidate('token-1'));
	t.is(map.size, 0);
	t.false(await cache.invalidate('token-1'));

	// A Keyv store whose delete answers nothing still deleted.
	const quiet: KeyvStore = {get: async key => map.get(key), set: async (key, value) => map.set(key, value), async delete(key) {
		map.delete(key);
	}};
	const quietCache = new SharedTokenCache({store: quiet, cacheKey, keys, now: () => start});
	await quietCache.fetchShared(fetcher(() => token(2)));
	t.true(await quietCache.invalidate('token-2'));
	t.is(map.size, 0);
});

test('a failing store is a miss: the token is fetched directly, and the store is skipped for 1 s, doubling', async t => {
	const {clock, store, cache, events} = setup();
	const failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {code: 'ECONNREFUSED'});
	let isDown = true;
	const get = store.get.bind(store);
	store.get = async key => {
		if (isDown) {
			store.calls.push('get');
			throw failure;
		}

		return get(key);
	};

	const shared = cache();
	const fetch = fetcher();
	t.is(await accessTokenOf(shared.fetchShared(fetch)), 'token-1');
	t.deepEqual(events, [{type: 'store-failure', operation: 'get', reason: 'ECONNREFUSED'}]);
	t.deepEqual(store.calls, ['get']);

	// Skipped: no store call, no timeout to pay.
	clock.advance(999);
	t.is(await accessTokenOf(shared.fetchShared(fetch)), 'token-2');
	t.is(await shared.read(), undefined);
	t.false(await shared.invalidate('token-2'));
	t.deepEqual(store.calls, ['get']);
	t.deepEqual(events.slice(1).map(event => event.type), ['store-skipped', 'store-skipped', 'store-skipped']);

	// Tried again after 1 s; a second failure in a row skips it for 2 s.
	clock.advance(1);
	await shared.fetchShared(fetch);
	t.deepEqual(store.calls, ['get', 'get']);
	clock.advance(1999);
	await shared.fetchShared(fetch);
	t.deepEqual(store.calls, ['get', 'get']);
	clock.advance(1);
	isDown = false;
	await shared.fetchShared(fetch);
	t.is(fetch.calls, 5);
	t.is(store.stored()?.accessToken, 'token-5');

	// A success resets the back-off to 1 s.
	isDown = true;
	await shared.fetchShared(fetch, {replacing: 'token-5'});
	clock.advance(1000);
	await shared.read();
	t.is(store.calls.filter(call => call === 'get').length, 6);
});

test('the back-off is at most 30 s', async t => {
	const {clock, store, cache} = setup();
	store.get = async () => {
		store.calls.push('get');
		throw new Error('down');
	};

	const shared = cache();
	for (let failure = 0; failure < 8; failure++) {
		await shared.read();
		clock.advance(30_000);
	}

	t.is(store.calls.length, 8);
});

test('a store call that hangs fails after the timeout; the store\'s own timeout is the default', async t => {
	for (const [storeTimeout, optionTimeout, expected] of [[40, undefined, 40], [5000, 40, 40], [undefined, undefined, 250]] as const) {
		const clock = fakeClock(start);
		const never = deferred<undefined>();
		const hanging = Object.assign(new MemoryStore(clock), {timeout: storeTimeout, get: async () => never.promise});
		const events: StoreEvent[] = [];
		const cache = new SharedTokenCache({store: hanging, cacheKey, keys, now: clock, clock, timeout: optionTimeout, onEvent: recorder(events)});
		const started = performance.now();
		const fetch = fetcher();
		t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-1');
		const elapsed = performance.now() - started;
		// Not before the timeout; and ended by it, as the call itself never settles (the upper bound is loose for a busy machine).
		t.true(elapsed >= expected - 5 && elapsed < expected + 2000, `${elapsed} ms for ${expected}`);
		t.deepEqual(events, [{type: 'store-failure', operation: 'get', reason: 'timeout'}]);
	}
});

test('a lock granted after its call timed out is released, so nobody waits on it', async t => {
	const {store, cache, events} = setup({timeout: 30});
	const late = deferred<boolean>();
	const acquireLock = store.acquireLock.bind(store);
	let owner = '';
	store.acquireLock = async (key, lockOwner, lease) => {
		owner = lockOwner;
		await late.promise;
		return acquireLock(key, lockOwner, lease);
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.deepEqual(events.at(-1), {type: 'store-failure', operation: 'acquireLock', reason: 'timeout'});
	late.resolve(true);
	await settle();
	t.false(store.isLocked());
	t.is(store.calls.at(-1), 'releaseLock');
	t.true(owner.length > 0);
});

test('a lock refused after its call timed out is left alone', async t => {
	const {store, cache} = setup({timeout: 30});
	const late = deferred<boolean>();
	store.acquireLock = async () => late.promise;
	await cache().fetchShared(fetcher());
	late.resolve(false);
	await settle();
	t.false(store.calls.includes('releaseLock'));
});

test('a failed write still returns the token; the lock is left to lapse while the store is skipped', async t => {
	const {store, cache, events} = setup();
	store.set = async () => {
		throw new Error('OOM command not allowed when used memory > \'maxmemory\'.');
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.deepEqual(events.at(-1), {type: 'store-failure', operation: 'set', reason: 'OOM'});
	t.false(store.calls.includes('releaseLock'));
});

test('a failure while waiting makes the waiter fetch directly', async t => {
	const {store, cache, events} = setup();
	t.true(await store.acquireLock(storeKey, 'holder', 10_000));
	const get = store.get.bind(store);
	let reads = 0;
	store.get = async key => {
		if (++reads === 2) {
			throw new Error('connection lost');
		}

		return get(key);
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.deepEqual(events.at(-1), {type: 'store-failure', operation: 'get', reason: 'Error'});
});

test('a failure to take the lock makes the process fetch directly', async t => {
	const {store, cache, events} = setup();
	store.acquireLock = async () => {
		// eslint-disable-next-line @typescript-eslint/only-throw-error -- a store may throw anything
		throw 'not an error';
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.deepEqual(events.at(-1), {type: 'store-failure', operation: 'acquireLock', reason: 'string'});
});

test('a holder whose second read fails fetches without storing, and leaves the lock to lapse', async t => {
	const {store, cache} = setup();
	const get = store.get.bind(store);
	let reads = 0;
	store.get = async key => {
		if (++reads === 2) {
			throw new Error('connection lost');
		}

		return get(key);
	};

	const fetch = fetcher();
	t.is(await accessTokenOf(cache().fetchShared(fetch)), 'token-1');
	t.is(fetch.calls, 1);
	t.false(store.calls.includes('set'));
	t.false(store.calls.includes('releaseLock'));
});

test('a store method that throws instead of rejecting is a failure too, and so is a failing invalidate', async t => {
	const {store, cache, events} = setup();
	store.deleteIfFingerprint = () => {
		throw new TypeError('not a function of the store');
	};

	t.false(await cache().invalidate('token-1'));
	t.deepEqual(events, [{type: 'store-failure', operation: 'deleteIfFingerprint', reason: 'TypeError'}]);

	const failingKeyv = new SharedTokenCache({
		store: {
			async get() {
				throw new Error('down');
			},
			set: async () => undefined,
			delete: async () => true,
		},
		cacheKey,
		keys,
	});
	t.false(await failingKeyv.invalidate('token-1'));
});

test('a failure reason is a code or a name, never the message, which may quote anything', async t => {
	const secretMessage = new Error('wrong token-1 for secret s3cr3t');
	const {store, cache, events} = setup();
	store.get = async () => {
		throw secretMessage;
	};

	await cache().read();
	t.deepEqual(events, [{type: 'store-failure', operation: 'get', reason: 'Error'}]);
	t.false(JSON.stringify(events).includes('s3cr3t'));
});

test('an event listener that throws changes nothing', async t => {
	const {store} = setup();
	const cache = new SharedTokenCache({store, cacheKey, keys, now: () => start, onEvent() {
		throw new Error('listener bug');
	}});
	const fetch = fetcher();
	t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-1');
	t.is(await accessTokenOf(cache.fetchShared(fetch)), 'token-1');
});

test('by default, usable times are read on the wall clock', async t => {
	const store = new MemoryStore(fakeClock(0));
	const events: StoreEvent[] = [];
	const cache = new SharedTokenCache({store, cacheKey, keys, onEvent: recorder(events)});
	await cache.fetchShared(countingFetcher());
	t.true(Math.abs(store.ttls[0]! - 3_540_000) < 1000, `${store.ttls[0]}`);

	const now = Date.now();
	store.values.set(storeKey, {value: sealEntry(keys, storeKey, storedEntry('past', now, now - 1)), until: Number.POSITIVE_INFINITY});
	t.is(await cache.read(), undefined);
	t.deepEqual(events.at(-1), {type: 'store-miss', reason: 'expired'});
});
