import {ConfigurationError} from './errors.js';

/*
The small checks every part of the configuration uses. Messages name the option and describe a wrong value by its type, never by its content, which may be a secret.
*/

export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function describe(value: unknown): string {
	if (value === null) {
		return 'null';
	}

	return Array.isArray(value) ? 'an array' : typeof value;
}

export function optionalString(option: string, value: unknown): string | undefined {
	if (value !== undefined && !isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a non-empty string, got ${describe(value)}`);
	}

	return value;
}
