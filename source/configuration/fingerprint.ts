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

/**
Functions whose value every process can name alike (a reader of one file path): they count by that name, across processes too.
*/
const stableNames = new WeakMap<AnyFunction, string>();

export function nameAcrossProcesses(value: AnyFunction, name: string): void {
	stableNames.set(value, name);
}

function functionId(value: AnyFunction): string {
	const name = stableNames.get(value);
	if (name !== undefined) {
		return name;
	}

	let id = functionIds.get(value);
	if (id === undefined) {
		id = ++lastFunctionId;
		functionIds.set(value, id);
	}

	return `function#${id}`;
}

const isBytes = (item: unknown): item is string | Uint8Array => typeof item === 'string' || item instanceof Uint8Array;

/**
Why a value cannot name a token that several processes share: a function is known only by its identity within one process, so another process's different function could get the same cache key, and a token for another subject. A reader of a file (`tokenFromFile`) is named by its path instead.
*/
export function processLocalProblem(option: string, value: unknown): {option: string; problem: string} | undefined {
	return typeof value === 'function' && !stableNames.has(value as AnyFunction)
		? {option, problem: 'cannot be a function with `store`: a function is known only within its process, so processes cannot tell whether their tokens are interchangeable'}
		: undefined;
}

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
