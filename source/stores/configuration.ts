import {describeValue} from '../errors.js';
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

	return `must be a Uint8Array of ${minimumKeyLength} random bytes or more, or a string of ${minimumKeyLength} characters or more, got ${describeValue(value)}`;
}

/**
The keys a token store's entries are sealed with, from an explicit `encryptionKey`.
*/
export function resolveStoreKeys(encryptionKey: unknown): StoreKeys | ConfigurationProblem {
	if (encryptionKey === undefined) {
		return {
			option: 'encryptionKey',
			problem: 'is required with `store` for a client without a client secret or private key (a public client, or one that sends a `clientAssertion`): tokens are encrypted at rest, with a key derived from one of them by default',
		};
	}

	const problem = encryptionKeyProblem(encryptionKey);
	return problem === undefined ? deriveStoreKeys(encryptionKey as EncryptionKey) : {option: 'encryptionKey', problem};
}
