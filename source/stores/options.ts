import type {KeyObject} from 'node:crypto';
import {optionNames} from '../checks.js';
import {ConfigurationError} from '../errors.js';
import {resolveStoreKeys, type EncryptionKey} from './configuration.js';
import {keyFromCredential} from './sealed-entry.js';
import {SharedTokenCache, type StoreEvent} from './shared-token-cache.js';
import {storeEncryptionKey, storeProblem, type Store} from './store.js';

export type StoreOptions = {
	/**
	A store that processes share, so that every process with the same configuration uses one token and one process at a time asks for a new one: `redisTokenStore(client)`, or any Keyv-compatible store (without the lock). The store is an optimisation: when it fails or is slow, this process gets its own token, and skips the store for a while.
	*/
	store?: Store;

	/**
	The key that encrypts tokens in the `store`: 32 random bytes, or a string of 32 characters or more. Also accepted by `redisTokenStore()`.

	@default Derived (HKDF-SHA256) from the client secret or the private key; a client with neither needs one.
	*/
	encryptionKey?: EncryptionKey;
};

export const storeOptionNames = optionNames<StoreOptions>()(['store', 'encryptionKey']);

export type SharedCacheInput = StoreOptions & {
	readonly cacheKey: string | undefined;
	readonly onEvent?: (event: StoreEvent) => void;
};

/**
The shared cache for a `store`, or `undefined` without one. Every mistake is a `ConfigurationError`.
*/
export function createSharedCache({store, encryptionKey, cacheKey, onEvent}: SharedCacheInput): SharedTokenCache | undefined {
	if (store === undefined) {
		if (encryptionKey !== undefined) {
			throw new ConfigurationError('encryptionKey', 'is only used with `store`');
		}

		return undefined;
	}

	const problem = storeProblem(store);
	if (problem !== undefined) {
		throw new ConfigurationError('store', problem);
	}

	if (cacheKey === undefined || cacheKey.length === 0) {
		throw new ConfigurationError('cacheKey', 'is required with `store`: it names the token that processes share; createTokenSource() makes one from the configuration');
	}

	const keys = resolveStoreKeys(storeEncryptionKey(store) ?? encryptionKey);
	if ('problem' in keys) {
		throw new ConfigurationError(keys.option, keys.problem);
	}

	return new SharedTokenCache({store, cacheKey, keys, onEvent});
}

/**
The encryption key for a configured source's store: the one given to the store or in the configuration (not both), or one derived from the client's own secret.
*/
export function storeEncryptionKeyFor({store, encryptionKey}: StoreOptions, credential: string | KeyObject | undefined): EncryptionKey | undefined {
	if (store === undefined) {
		return encryptionKey;
	}

	const storeKey = storeEncryptionKey(store);
	if (storeKey !== undefined && encryptionKey !== undefined) {
		throw new ConfigurationError('encryptionKey', 'is given both to the store and in the configuration; give it once');
	}

	return storeKey ?? encryptionKey ?? (credential === undefined ? undefined : keyFromCredential(credential));
}
