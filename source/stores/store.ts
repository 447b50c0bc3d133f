import {describeValue} from '../errors.js';

/**
A store that several processes share, with a lock, so that one process at a time fetches a token and the others wait for it. `redisTokenStore()` makes one from a Redis client; implement it to share tokens through anything else.

Keys and values are strings. A key names one token (one configuration, one encryption key); the store maps it to its own keys, and keeps the entry and its lock apart. A value is opaque, except that its fingerprint is the text between its first and second dot (`1.<fingerprint>.…`).

Every method should settle quickly: the token source gives up on a call after `timeout` and goes on without the store. A method may reject; that too means "go on without the store".
*/
export type TokenStore = {
	/** The value at `key`, or `undefined` when there is none. */
	get(key: string): Promise<string | undefined>;
	/** Store `value` at `key`, replacing any value, for `ttl` milliseconds (an integer, 1 or more). */
	set(key: string, value: string, ttl: number): Promise<unknown>;
	/** Delete the value at `key` if its fingerprint is `fingerprint`, atomically. Resolves `true` if it deleted one. */
	deleteIfFingerprint(key: string, fingerprint: string): Promise<boolean>;
	/** Take the lock of `key` for `owner` unless anyone holds it; it lapses after `lease` milliseconds. Resolves `true` if taken. */
	acquireLock(key: string, owner: string, lease: number): Promise<boolean>;
	/** Release the lock of `key` if `owner` holds it, atomically: never another owner's. Resolves `true` if released. */
	releaseLock(key: string, owner: string): Promise<boolean>;
	/**
	How long one lock is held at most, in milliseconds. A process that crashes while fetching holds up the others this long.
	@default 10_000
	*/
	readonly lockLease?: number;
	/**
	How long one call may take, in milliseconds, before it counts as a store failure.
	@default 250
	*/
	readonly timeout?: number;
};

/**
A Keyv-compatible store (what got's `cache` option and `keyv` accept): shares tokens, but has no lock, so each process may fetch a token at the same moment as the others, at worst.
*/
export type KeyvStore = {
	get(key: string): unknown;
	/** `ttl` in milliseconds. */
	set(key: string, value: string, ttl?: number): unknown;
	delete(key: string): unknown;
};

export type Store = TokenStore | KeyvStore;

const tokenStoreMethods = ['get', 'set', 'deleteIfFingerprint', 'acquireLock', 'releaseLock'] as const;
const keyvStoreMethods = ['get', 'set', 'delete'] as const;

const hasMethod = (value: unknown, name: string): boolean => typeof (value as Record<string, unknown>)[name] === 'function';

/** A `TokenStore` has the lock methods; anything with only `get`, `set` and `delete` is a Keyv store. */
export function isTokenStore(store: Store): store is TokenStore {
	return hasMethod(store, 'acquireLock');
}

const isPositiveNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;

/**
What is wrong with `value` as the `store` option, or `undefined` if it is a `TokenStore` or a Keyv store. Says what is missing; never shows the value.
*/
export function storeProblem(value: unknown): string | undefined {
	if (typeof value !== 'object' || value === null) {
		return `must be a token store (such as \`redisTokenStore(client)\`) or a Keyv store, got ${describeValue(value)}`;
	}

	if (hasMethod(value, 'acquireLock') || hasMethod(value, 'releaseLock') || hasMethod(value, 'deleteIfFingerprint')) {
		const missing = tokenStoreMethods.filter(name => !hasMethod(value, name));
		if (missing.length > 0) {
			return `looks like a token store but has no ${missing.map(name => `\`${name}()\``).join(', ')} method`;
		}

		const {lockLease, timeout} = value as TokenStore;
		if (lockLease !== undefined && !isPositiveNumber(lockLease)) {
			return 'has a `lockLease` that is not a positive number of milliseconds';
		}

		return timeout !== undefined && !isPositiveNumber(timeout) ? 'has a `timeout` that is not a positive number of milliseconds' : undefined;
	}

	const missing = keyvStoreMethods.filter(name => !hasMethod(value, name));
	return missing.length > 0
		? `must be a token store (such as \`redisTokenStore(client)\`) or a Keyv store with \`get()\`, \`set()\` and \`delete()\`; it has no ${missing.map(name => `\`${name}()\``).join(', ')}`
		: undefined;
}

/** Encryption keys given to a store factory (`redisTokenStore({encryptionKey})`), kept out of sight: never a property a log could print. */
const encryptionKeys = new WeakMap<TokenStore, string | Uint8Array>();

export function setStoreEncryptionKey(store: TokenStore, encryptionKey: string | Uint8Array): void {
	encryptionKeys.set(store, encryptionKey);
}

/** The `encryptionKey` the store was made with, if any. */
export function storeEncryptionKey(store: Store): string | Uint8Array | undefined {
	return encryptionKeys.get(store as TokenStore);
}
