import {createHash} from 'node:crypto';

/*
Stand-ins for values that make a token someone else's (a refresh token, a subject token, a certificate) but must not appear as themselves in a cache key.
*/

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('base64url');

type AnyFunction = (...arguments_: never[]) => unknown;

/**
Functions have no content to hash: each gets its own number, so two callbacks never share a key. Process-local.
*/
const functionIds = new WeakMap<AnyFunction, number>();
let lastFunctionId = 0;

function functionId(value: AnyFunction): string {
	let id = functionIds.get(value);
	if (id === undefined) {
		id = ++lastFunctionId;
		functionIds.set(value, id);
	}

	return `function#${id}`;
}

const isBytes = (item: unknown): item is string | Uint8Array => typeof item === 'string' || item instanceof Uint8Array;

/**
A hash of `value`, or of each of its items: one value, a list of certificates, or got's pfx entries `{buffer, passphrase}`, of which only `buffer` names the certificate. A function counts by identity.
*/
export function fingerprint(value: unknown): string | undefined {
	if (value === undefined) {
		return undefined;
	}

	return typeof value === 'function'
		? functionId(value as AnyFunction)
		: sha256([value].flat().map(item => sha256(isBytes(item) ? item : (item as {buffer: string | Uint8Array}).buffer)).join(','));
}
