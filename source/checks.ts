import {ConfigurationError, describeValue} from './errors.js';

/*
The small checks every part of the configuration, and every answer from a server, goes through.
*/

export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
A duration in seconds as OAuth states it (`expires_in`) and as the cache options take it.
*/
export const isNonNegativeSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
An optional option that, when given, must be a non-empty string.
*/
export function checkOptionalString(option: string, value: unknown): string | undefined {
	if (value !== undefined && !isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a non-empty string, got ${describeValue(value)}`);
	}

	return value;
}

export function checkSeconds(option: string, value: unknown, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (!isNonNegativeSeconds(value)) {
		throw new ConfigurationError(option, 'must be a finite number of seconds, 0 or more');
	}

	return value;
}

/**
A string or an array of them, as a list.
*/
export function checkStringList(option: string, value: unknown): string[] {
	const list: unknown = typeof value === 'string' ? [value] : (value ?? []);
	if (!Array.isArray(list) || list.some(item => !isNonEmptyString(item))) {
		throw new ConfigurationError(option, `must be a non-empty string or an array of them, got ${describeValue(value)}`);
	}

	return list.map(String);
}

export function checkUrl(option: string, value: unknown): URL {
	if (value instanceof URL) {
		return new URL(value.href);
	}

	if (!isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a URL or a string, got ${describeValue(value)}`);
	}

	try {
		return new URL(value);
	} catch {
		throw new ConfigurationError(option, 'is not an absolute URL');
	}
}

export function checkFunction<Type>(option: string, value: unknown): Type | undefined {
	if (value !== undefined && typeof value !== 'function') {
		throw new ConfigurationError(option, `must be a function, got ${describeValue(value)}`);
	}

	return value as Type | undefined;
}

/**
The names of an options type, as a list the compiler holds to the type: a name missing from the list, or one the type does not have, fails to compile.
*/
export const optionNames = <Options>() => <const Names extends ReadonlyArray<keyof Options & string>>(
	names: Names & ([Exclude<keyof Options, Names[number]>] extends [never] ? unknown : {missing: Exclude<keyof Options, Names[number]>}),
): Names => names;
