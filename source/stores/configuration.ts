import {KeyObject} from 'node:crypto';
import {describe} from '../validation.js';
import {deriveStoreKeys, type StoreKeys} from './sealed-entry.js';

/*
Checks that decide whether a configuration may share its token, and with which keys. Each answers with the option at fault and the problem, for a `ConfigurationError`; none shows a value.
*/

export type ConfigurationProblem = {readonly option: string; readonly problem: string};

/** An explicit key: 32 random bytes or more, or a string of 32 characters or more (such as `openssl rand -base64 32`). */
export type EncryptionKey = string | Uint8Array;

const minimumKeyLength = 32;

/** What is wrong with an `encryptionKey` value, or `undefined`. */
export function encryptionKeyProblem(value: unknown): string | undefined {
	if (value instanceof Uint8Array) {
		return value.length < minimumKeyLength ? `must be at least ${minimumKeyLength} bytes, got ${value.length}` : undefined;
	}

	if (typeof value === 'string') {
		// HKDF does not slow down guessing: the string has to be as strong as a key.
		return value.length < minimumKeyLength ? `must be at least ${minimumKeyLength} characters of random text` : undefined;
	}

	return `must be a Uint8Array of ${minimumKeyLength} random bytes or more, or a string of ${minimumKeyLength} characters or more, got ${describe(value)}`;
}

export type StoreKeyInput = {
	/** The explicit key, from the configuration or the store (`storeEncryptionKey(store)`); it wins over `credential`. */
	readonly encryptionKey?: unknown;
	/** The client's own secret: its client secret, or the private key it authenticates with (a KeyObject). */
	readonly credential?: string | KeyObject;
};

/**
The keys a token store's entries are sealed with: from `encryptionKey` if given, else from the client's credential. A client with neither (a public client) cannot share a token without saying how to encrypt it.
*/
export function resolveStoreKeys({encryptionKey, credential}: StoreKeyInput): StoreKeys | ConfigurationProblem {
	if (encryptionKey !== undefined) {
		const problem = encryptionKeyProblem(encryptionKey);
		return problem === undefined ? deriveStoreKeys(encryptionKey as EncryptionKey) : {option: 'encryptionKey', problem};
	}

	if (typeof credential === 'string' && credential.length > 0) {
		return deriveStoreKeys(credential);
	}

	if (credential instanceof KeyObject && credential.type !== 'public') {
		return deriveStoreKeys(credential);
	}

	return {
		option: 'encryptionKey',
		problem: 'is required with `store` for a client without a client secret or private key (a public client): tokens are encrypted at rest with a key derived from one of them',
	};
}

/** The parts of a grant that decide whether its token can be shared. */
export type SharedGrant = {
	readonly type: string;
	readonly assertion?: unknown;
	readonly subjectToken?: unknown;
	readonly actorToken?: unknown;
};

/**
Why a grant's token must not be shared through a store, or `undefined` if it may be.

- A refresh token that rotates is used once (RFC 6749 §6: the client must discard the old one): processes sharing it would race and lose it.
- A function (a custom grant, or an assertion or subject token given as a function) is known to the cache key only by its identity within one process, so another process's different function could get the same key, and its token.
*/
export function sharingProblem(grant: SharedGrant): ConfigurationProblem | undefined {
	if (grant.type === 'refresh_token') {
		return {option: 'store', problem: 'cannot share a refresh_token grant\'s token: every process would redeem the one refresh token, and a rotated one works once (RFC 6749 §6)'};
	}

	if (grant.type === 'custom') {
		return {option: 'store', problem: 'cannot share a custom grant function\'s token: a function is known only within its process, so processes cannot tell if their tokens are interchangeable'};
	}

	for (const option of ['assertion', 'subjectToken', 'actorToken'] as const) {
		if (typeof grant[option] === 'function') {
			return {option, problem: 'cannot be a function with `store`: a function is known only within its process, so processes cannot tell if their tokens are interchangeable'};
		}
	}

	return undefined;
}
