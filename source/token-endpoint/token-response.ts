import {isNonNegativeSeconds, isPlainObject} from '../checks.js';
import {TokenError} from '../errors.js';
import type {TokenEndpointAnswer} from '../grants/grant.js';
import type {TokenSet} from '../token-source/token-source.js';

/*
What a token endpoint's answer must look like: RFC 6749 §5.1 for success, §5.2 for an error. The body is never copied into an error: it may hold a token.
*/

type JsonObject = Record<string, unknown>;

const stringOrUndefined = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined;

export function parseJsonObject(body: string): JsonObject | undefined {
	try {
		const value: unknown = JSON.parse(body);
		return isPlainObject(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

const withStatus = (statusCode: number | undefined): string => statusCode === undefined ? '' : ` with HTTP ${statusCode}`;

/**
The `TokenError` an RFC 6749 §5.2 error response (or any failed response) stands for.
*/
function tokenErrorFromResponse(json: JsonObject | undefined, statusCode: number | undefined): TokenError {
	const error = stringOrUndefined(json?.error);
	const errorDescription = stringOrUndefined(json?.error_description);
	const details = {error, errorDescription, errorUri: stringOrUndefined(json?.error_uri), statusCode};
	if (error === undefined) {
		return new TokenError(`Token request failed${withStatus(statusCode)} and no RFC 6749 §5.2 error response`, details);
	}

	const description = errorDescription === undefined ? '' : ` (${errorDescription})`;
	return new TokenError(`Token request failed${withStatus(statusCode)}: ${error}${description}`, details);
}

/**
A token endpoint response as a successful answer, or the `TokenError` it is: a non-2xx status, a body that is not a JSON object, or a 200 with `error` (some servers send one).
*/
export function parseTokenEndpointResponse(statusCode: number, body: string): TokenEndpointAnswer {
	const json = parseJsonObject(body);
	if (statusCode < 200 || statusCode > 299 || json?.error !== undefined) {
		throw tokenErrorFromResponse(json, statusCode);
	}

	if (json === undefined) {
		throw new TokenError('Token response is not a JSON object (RFC 6749 §5.1)', {statusCode});
	}

	return {statusCode, json};
}

function parseExpiresIn(value: unknown, statusCode: number | undefined): number | undefined {
	if (value === undefined || value === null) {
		return undefined;
	}

	// Azure AD v1 sends a numeric string.
	const expiresIn = typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/v.test(value) ? Number(value) : value;
	if (!isNonNegativeSeconds(expiresIn)) {
		throw new TokenError('Token response `expires_in` is not a non-negative number of seconds (RFC 6749 §5.1)', {statusCode});
	}

	return expiresIn;
}

/**
The token set in a successful response (RFC 6749 §5.1). Other members, such as RFC 8693's `issued_token_type`, are allowed and ignored. The JSON may come from a custom grant function, unchecked.
*/
export function parseTokenObject({json, statusCode}: {readonly json: unknown; readonly statusCode: number | undefined}): TokenSet {
	if (!isPlainObject(json)) {
		throw new TokenError('Token response is not a JSON object (RFC 6749 §5.1)', {statusCode});
	}

	// Some servers answer 200 with an error body.
	if (json.error !== undefined) {
		throw tokenErrorFromResponse(json, statusCode);
	}

	const accessToken = json.access_token;
	if (typeof accessToken !== 'string' || accessToken.length === 0) {
		throw new TokenError('Token response has no `access_token` string (RFC 6749 §5.1)', {statusCode});
	}

	const tokenType = json.token_type ?? 'Bearer';
	if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
		const shown = typeof tokenType === 'string' ? tokenType.slice(0, 32) : typeof tokenType;
		throw new TokenError(`Token response \`token_type\` is "${shown}", only Bearer is supported (RFC 6750)`, {statusCode});
	}

	// Absent means "keep the one you have" (RFC 6749 §6); an empty one is no refresh token at all.
	const refreshToken = json.refresh_token;
	if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken.length === 0)) {
		throw new TokenError('Token response `refresh_token` is not a non-empty string (RFC 6749 §5.1)', {statusCode});
	}

	return {
		accessToken,
		tokenType,
		expiresIn: parseExpiresIn(json.expires_in, statusCode),
		scope: stringOrUndefined(json.scope),
		refreshToken,
	};
}
