import {randomUUID} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import {coolDownAfter} from '../backoff.js';
import {DpopKey} from '../dpop/key.js';
import {ConfigurationError} from '../errors.js';
import type {TokenSet} from '../token-source/token-source.js';
import {openEntry, sealEntry, tokenFingerprint, valueFingerprint, type StoreKeys, type StoredToken} from './sealed-entry.js';
import {isTokenStore, storeProblem, type KeyvStore, type Store, type TokenStore} from './store.js';

export type StoreOperation = 'get' | 'set' | 'delete' | 'deleteIfFingerprint' | 'acquireLock' | 'releaseLock';

/**
What the shared cache did, for counters and logs. No event carries a token, a key or a value.
*/
export type StoreEvent =
	/** A usable token was read from the store and adopted. */
	| {readonly type: 'store-hit'}
	/** No usable token in the store: none, one that does not open (changed, cut, another key), one past its usable time, or the one being replaced. */
	| {readonly type: 'store-miss'; readonly reason: 'absent' | 'unreadable' | 'expired' | 'replacing'}
	/** A token this process fetched was stored. */
	| {readonly type: 'store-write'}
	/** A stored token was deleted because it was rejected. */
	| {readonly type: 'store-delete'}
	/** This process took the lock and fetches for everyone. */
	| {readonly type: 'lock-acquired'}
	/** Another process holds the lock: this one waits for its token. */
	| {readonly type: 'lock-wait'}
	/** After waiting, this process took the lock: the holder released it without a token, or its lease lapsed. */
	| {readonly type: 'lock-takeover'}
	/** The wait outlasted the lease and no lock could be taken: this process fetches without one. */
	| {readonly type: 'lock-wait-timeout'}
	/** A store call failed or took longer than the timeout: the store is skipped for a while. `reason` is `timeout`, an error code, a Redis error prefix or an error name, never a message. */
	| {readonly type: 'store-failure'; readonly operation: StoreOperation; readonly reason: string}
	/** The store was skipped after a recent failure: this process fetches its own token. */
	| {readonly type: 'store-skipped'};

/**
A token with its times, as the token source computed them: wall-clock epoch milliseconds, so that every process reads them alike.
*/
export type SharedToken = {
	readonly tokenSet: TokenSet;
	/**
	When the token expires.
	*/
	readonly expiresAt: number;
	/**
	After this no process uses it: `expiresAt` less the expiry margin.
	*/
	readonly usableUntil: number;
};

export type SharedTokenCacheOptions = {
	store: Store;
	/** The token source's cache key: equal only for configurations that get interchangeable tokens. */
	cacheKey: string;
	/** See `resolveStoreKeys()`. */
	keys: StoreKeys;
	/**
	Milliseconds one store call may take before it counts as a failure.
	@default store.timeout ?? 250
	*/
	timeout?: number;
	/**
	Milliseconds a lock lasts.
	@default store.lockLease ?? 10_000
	*/
	lockLease?: number;
	/** Called with every event; what it throws is ignored. */
	onEvent?: (event: StoreEvent) => void;
	/** Wall-clock epoch milliseconds: stored expiry times are compared across processes. Default: `Date.now`. */
	now?: () => number;
	/** Monotonic milliseconds, for waits and back-off. Default: `performance.now`. */
	clock?: () => number;
	/** Waits `milliseconds`; rejects with the signal's reason when it aborts. Default: a timer. */
	sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
};

export type FetchSharedOptions = {
	/** The token this call replaces (rejected, or due for refresh): a stored copy of it is not adopted. */
	replacing?: string;
	/** Stops waiting for another process's token. */
	signal?: AbortSignal;
};

/**
Waiting for another process's token, the store is read after 50 ms, then at doubling intervals up to 500 ms: a token request takes from tens to hundreds of milliseconds, so the first reads catch a quick one early, and a slow one costs each waiting process at most two store reads a second.
*/
const firstPoll = 50;
const maxPoll = 500;
/** A waiter gives up this long after the lease: by then the lease has lapsed and one more read has been made. */
const waitMargin = 2 * maxPoll;
/** After a store failure the store is skipped for 1 s, doubling with each failure in a row up to 30 s: a blip costs little, an outage costs one timeout per 30 s. */
const skipInitial = 1;
const skipMax = 30;

const failed = Symbol('failed');
const timedOut = Symbol('timed out');
/** Another process holds the lock: poll again. */
const waiting = Symbol('waiting');
type Failed = typeof failed;
type Read = SharedToken | undefined | Failed;
type Fetch = () => Promise<SharedToken>;

/** One `fetchShared()` call that found no token in a store with a lock. */
type Attempt = {
	readonly store: TokenStore;
	readonly owner: string;
	readonly fetch: Fetch;
	readonly replacing: string | undefined;
	readonly signal: AbortSignal | undefined;
};

async function defaultSleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
	signal?.throwIfAborted();
	await new Promise<void>((resolve, reject) => {
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal!.reason as Error);
		};

		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, milliseconds);
		signal?.addEventListener('abort', onAbort, {once: true});
	});
}

const redisErrorPrefix = /^(?<prefix>[A-Z]{2,}) /v;
const errorCode = /^[A-Z][\dA-Z_]+$/v;

/** Why a call failed, without its message: a Redis error echoes nothing secret today, but a store's error might. */
function failureReason(error: unknown): string {
	if (!(error instanceof Error)) {
		return typeof error;
	}

	const {code} = error as {code?: unknown};
	return typeof code === 'string' && errorCode.test(code)
		? code
		: redisErrorPrefix.exec(error.message)?.groups?.prefix ?? error.name;
}

/**
A stored token as this process takes it: a DPoP-bound one with its key (RFC 9449), or `undefined` if that key does not import.
*/
async function adopt({accessToken, tokenType, scope, expiresAt, usableUntil, dpopKey: storedKey}: StoredToken): Promise<SharedToken | undefined> {
	const tokenSet = {accessToken, tokenType, ...(scope !== undefined && {scope})};
	if (storedKey === undefined) {
		return {tokenSet, expiresAt, usableUntil};
	}

	const dpopKey = await DpopKey.fromStoredJwk(storedKey).catch(() => undefined);
	return dpopKey === undefined ? undefined : {tokenSet: {...tokenSet, dpopKey}, expiresAt, usableUntil};
}

/**
One token for every process that shares a store: read before fetching, one process fetching at a time, a rejected token deleted once for all. Transport-free, and never a reason to fail: a store that fails or is slow makes this process fetch its own token, and is skipped for a while.
*/
export class SharedTokenCache {
	readonly #store: Store;
	/** The store again when it has a lock; `undefined` for a Keyv store. */
	readonly #lockingStore: TokenStore | undefined;
	readonly #key: string;
	readonly #keys: StoreKeys;
	readonly #timeout: number;
	readonly #lockLease: number;
	readonly #onEvent: ((event: StoreEvent) => void) | undefined;
	readonly #now: () => number;
	readonly #clock: () => number;
	readonly #sleep: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
	#failuresInARow = 0;
	#skipUntil = Number.NEGATIVE_INFINITY;

	constructor(options: SharedTokenCacheOptions) {
		const problem = storeProblem(options.store);
		if (problem !== undefined) {
			throw new ConfigurationError('store', problem);
		}

		const {store, keys} = options;
		this.#store = store;
		this.#lockingStore = isTokenStore(store) ? store : undefined;
		// The key id keeps apart processes that hold different keys during a rotation; a Keyv store may hold other data too, hence the prefix.
		this.#key = `${this.#lockingStore === undefined ? 'got-oauth:' : ''}${options.cacheKey}.${keys.keyId}`;
		this.#keys = keys;
		this.#timeout = options.timeout ?? this.#lockingStore?.timeout ?? 250;
		this.#lockLease = options.lockLease ?? this.#lockingStore?.lockLease ?? 10_000;
		this.#onEvent = options.onEvent;
		this.#now = options.now ?? Date.now;
		this.#clock = options.clock ?? (() => performance.now());
		this.#sleep = options.sleep ?? defaultSleep;
	}

	#emit(event: StoreEvent): void {
		try {
			this.#onEvent?.(event);
		} catch {}
	}

	/** Within the back-off after a failure. */
	#isSkipping(): boolean {
		return this.#clock() < this.#skipUntil;
	}

	/** The same, reported: for the calls that would have started with the store. */
	#isSkipped(): boolean {
		const isSkipping = this.#isSkipping();
		if (isSkipping) {
			this.#emit({type: 'store-skipped'});
		}

		return isSkipping;
	}

	#fail(operation: StoreOperation, reason: string): void {
		this.#skipUntil = this.#clock() + coolDownAfter(++this.#failuresInARow, skipInitial, skipMax);
		this.#emit({type: 'store-failure', operation, reason});
	}

	/** One store call, bounded by the timeout. A late answer is ignored, except by `onLate`. */
	async #call<T>(operation: StoreOperation, run: () => Promise<T>, onLate?: (value: T) => void): Promise<T | Failed> {
		let timer: NodeJS.Timeout | undefined;
		// A store method that throws instead of rejecting is a failure like any other.
		const pending = (async () => run())();
		const timeout = new Promise<typeof timedOut>(resolve => {
			timer = setTimeout(resolve, this.#timeout, timedOut);
		});
		try {
			const result = await Promise.race([pending, timeout]);
			if (result === timedOut) {
				pending.then(onLate).catch(() => undefined);
				this.#fail(operation, 'timeout');
				return failed;
			}

			this.#failuresInARow = 0;
			return result;
		} catch (error) {
			this.#fail(operation, failureReason(error));
			return failed;
		} finally {
			clearTimeout(timer);
		}
	}

	async #read(replacing: string | undefined, isReported: boolean): Promise<Read> {
		const value = await this.#call('get', async () => this.#store.get(this.#key));
		if (value === failed) {
			return failed;
		}

		const isAbsent = value === undefined || value === null;
		const entry = isAbsent ? undefined : openEntry(this.#keys, this.#key, value);
		const miss = this.#missReason(entry, isAbsent, replacing);
		const adopted = miss === undefined && entry !== undefined ? await adopt(entry) : undefined;
		if (adopted !== undefined) {
			this.#emit({type: 'store-hit'});
			return adopted;
		}

		if (isReported) {
			this.#emit({type: 'store-miss', reason: miss ?? 'unreadable'});
		}

		return undefined;
	}

	/**
	Why a stored entry is not usable here, or `undefined` if it is.
	*/
	#missReason(entry: StoredToken | undefined, isAbsent: boolean, replacing: string | undefined): (StoreEvent & {type: 'store-miss'})['reason'] | undefined {
		if (entry === undefined) {
			return isAbsent ? 'absent' : 'unreadable';
		}

		if (this.#now() >= entry.usableUntil) {
			return 'expired';
		}

		return entry.accessToken === replacing ? 'replacing' : undefined;
	}

	async #write({tokenSet, expiresAt, usableUntil}: SharedToken): Promise<void> {
		// The store lets the entry go when no process would use it any more.
		const ttl = Math.ceil(usableUntil - this.#now());
		if (ttl < 1) {
			return;
		}

		const {dpopKey} = tokenSet;
		const seal = async () => sealEntry(this.#keys, this.#key, {
			accessToken: tokenSet.accessToken,
			tokenType: tokenSet.tokenType,
			...(tokenSet.scope !== undefined && {scope: tokenSet.scope}),
			expiresAt,
			usableUntil,
			// RFC 9449: the token is useless without its key, so the key goes with it, sealed alike.
			...(dpopKey !== undefined && {dpopKey: await dpopKey.toStoredJwk()}),
		});
		if (await this.#call('set', async () => this.#store.set(this.#key, await seal(), ttl)) !== failed) {
			this.#emit({type: 'store-write'});
		}
	}

	async #fetchAndWrite(fetch: Fetch): Promise<SharedToken> {
		const token = await fetch();
		if (!this.#isSkipping()) {
			await this.#write(token);
		}

		return token;
	}

	async #fetchHoldingLock({store, owner, fetch, replacing}: Attempt): Promise<SharedToken> {
		try {
			// Another process may have stored a token between our read and our lock.
			const found = await this.#read(replacing, false);
			return found === failed || found === undefined ? await this.#fetchAndWrite(fetch) : found;
		} finally {
			// Released after a failed fetch too, so a waiter takes over at once rather than after the lease.
			if (!this.#isSkipping()) {
				await this.#call('releaseLock', async () => store.releaseLock(this.#key, owner));
			}
		}
	}

	/** A Keyv store's compare-and-delete: two calls, not atomic. */
	async #deleteIfFingerprint(fingerprint: string): Promise<unknown> {
		const store = this.#store as KeyvStore;
		const value = await this.#call('get', async () => store.get(this.#key));
		return value !== failed && valueFingerprint(value) === fingerprint
			&& this.#call('delete', async () => store.delete(this.#key));
	}

	/** Take the lock and fetch; `waiting` if another process holds it. */
	async #tryLock(attempt: Attempt, hasWaited: boolean): Promise<SharedToken | typeof waiting> {
		const {store, owner, fetch} = attempt;
		const acquired = await this.#call(
			'acquireLock',
			async () => store.acquireLock(this.#key, owner, this.#lockLease),
			// Taken after we stopped waiting for the answer: nobody will use it, so free it for the others.
			isLateLock => {
				if (isLateLock) {
					store.releaseLock(this.#key, owner).catch(() => undefined);
				}
			},
		);
		if (acquired === failed) {
			return fetch();
		}

		if (!acquired) {
			return waiting;
		}

		this.#emit({type: hasWaited ? 'lock-takeover' : 'lock-acquired'});
		return this.#fetchHoldingLock(attempt);
	}

	/** Wait, then adopt the holder's token, or take the lock if the holder is gone. */
	async #poll(attempt: Attempt, delay: number): Promise<SharedToken | typeof waiting> {
		await this.#sleep(delay, attempt.signal);
		const found = await this.#read(attempt.replacing, false);
		return found === failed ? attempt.fetch() : (found ?? this.#tryLock(attempt, true));
	}

	async #fetchOnce(attempt: Attempt): Promise<SharedToken> {
		const first = await this.#tryLock(attempt, false);
		if (first !== waiting) {
			return first;
		}

		this.#emit({type: 'lock-wait'});
		const deadline = this.#clock() + this.#lockLease + waitMargin;
		for (let delay = firstPoll; ; delay = Math.min(delay * 2, maxPoll)) {
			const remaining = deadline - this.#clock();
			if (remaining <= 0) {
				this.#emit({type: 'lock-wait-timeout'});
				return this.#fetchAndWrite(attempt.fetch);
			}

			// eslint-disable-next-line no-await-in-loop -- one poll after another
			const result = await this.#poll(attempt, Math.min(delay, remaining));
			if (result !== waiting) {
				return result;
			}
		}
	}

	/**
	The stored token if it is usable and is not `replacing`; `undefined` otherwise, and when the store fails. Never rejects.
	*/
	async read(options: Pick<FetchSharedOptions, 'replacing'> = {}): Promise<SharedToken | undefined> {
		if (this.#isSkipped()) {
			return undefined;
		}

		const found = await this.#read(options.replacing, true);
		return found === failed ? undefined : found;
	}

	/**
	A token for this process: the stored one if usable, else one from `fetch`, fetched by one process at a time across every process sharing the store and stored for the others. `fetch` is called at most once. Rejects only with what `fetch` rejects with, or with the signal's reason while waiting for another process.
	*/
	async fetchShared(fetch: Fetch, options: FetchSharedOptions = {}): Promise<SharedToken> {
		const {replacing, signal} = options;
		signal?.throwIfAborted();
		const found = this.#isSkipped() ? failed : await this.#read(replacing, true);
		if (found === failed) {
			return fetch();
		}

		if (found !== undefined) {
			return found;
		}

		const store = this.#lockingStore;
		return store === undefined
			? this.#fetchAndWrite(fetch)
			: this.#fetchOnce({store, owner: randomUUID(), fetch, replacing, signal});
	}

	/**
	Delete the stored token if it is `accessToken` (the API rejected it), and only then: a newer token another process stored is left alone. Resolves `true` if it deleted one; never rejects. With a Keyv store the read and the delete are two calls, so a token stored between them can be deleted too: one extra token request, at worst.
	*/
	async invalidate(accessToken: string): Promise<boolean> {
		if (this.#isSkipped()) {
			return false;
		}

		const fingerprint = tokenFingerprint(this.#keys, accessToken);
		const lockingStore = this.#lockingStore;
		const deleted = lockingStore === undefined
			? await this.#deleteIfFingerprint(fingerprint)
			: await this.#call('deleteIfFingerprint', async () => lockingStore.deleteIfFingerprint(this.#key, fingerprint));
		// A Keyv store may answer `undefined` for a delete it made.
		const isDeleted = deleted !== failed && deleted !== false;
		if (isDeleted) {
			this.#emit({type: 'store-delete'});
		}

		return isDeleted;
	}
}
