import {TokenError} from './errors.js';
import {isPlainObject} from './validation.js';

export type TokenSet = {
	accessToken: string;
	/** `token_type` as sent; `Bearer` when absent. */
	tokenType: string;
	/** Seconds, from `expires_in`. */
	expiresIn?: number;
	/** Granted scope, when the server says (RFC 6749 §5.1). */
	scope?: string;
	/** A refresh token, when the server issued one (RFC 6749 §5.1); a rotating server sends a new one each time. */
	refreshToken?: string;
};

type JsonObject = Record<string, unknown>;

const optionalString = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined;

export function parseJsonObject(body: string): JsonObject | undefined {
	try {
		const value: unknown = JSON.parse(body);
		return isPlainObject(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

const withStatus = (statusCode: number | undefined): string => statusCode === undefined ? '' : ` with HTTP ${statusCode}`;

export function errorResponse(json: JsonObject | undefined, statusCode: number | undefined): TokenError {
	const error = optionalString(json?.error);
	const errorDescription = optionalString(json?.error_description);
	const details = {error, errorDescription, errorUri: optionalString(json?.error_uri), statusCode};
	if (error === undefined) {
		return new TokenError(`Token request failed${withStatus(statusCode)} and no RFC 6749 §5.2 error response`, details);
	}

	const description = errorDescription === undefined ? '' : ` (${errorDescription})`;
	return new TokenError(`Token request failed${withStatus(statusCode)}: ${error}${description}`, details);
}

function parseExpiresIn(value: unknown, statusCode: number | undefined): number | undefined {
	if (value === undefined || value === null) {
		return undefined;
	}

	// Azure AD v1 sends a numeric string.
	const expiresIn = typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/v.test(value) ? Number(value) : value;
	if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0) {
		throw new TokenError('Token response `expires_in` is not a non-negative number of seconds (RFC 6749 §5.1)', {statusCode});
	}

	return expiresIn;
}

/**
The JSON object of a successful token endpoint response, or the RFC 6749 §5.2 error it is: a non-2xx status, a body that is not a JSON object, or a 200 with `error` (some servers send one). The body is never copied into an error: it may hold a token.
*/
export function successfulResponse(statusCode: number, body: string): JsonObject {
	const json = parseJsonObject(body);
	if (statusCode < 200 || statusCode > 299 || json?.error !== undefined) {
		throw errorResponse(json, statusCode);
	}

	if (json === undefined) {
		throw new TokenError('Token response is not a JSON object (RFC 6749 §5.1)', {statusCode});
	}

	return json;
}

/**
Read a token endpoint response per RFC 6749 §5.1 (success) and §5.2 (error).
*/
export function parseTokenResponse(statusCode: number, body: string): TokenSet {
	return parseTokenObject(successfulResponse(statusCode, body), statusCode);
}

/**
Validate a successful token response already parsed from JSON (RFC 6749 §5.1). Other members, such as RFC 8693's `issued_token_type`, are allowed and ignored. `statusCode` is absent for a response from a custom grant function.
*/
export function parseTokenObject(json: unknown, statusCode?: number): TokenSet {
	if (!isPlainObject(json)) {
		throw new TokenError('Token response is not a JSON object (RFC 6749 §5.1)', {statusCode});
	}

	// Some servers answer 200 with an error body.
	if (json.error !== undefined) {
		throw errorResponse(json, statusCode);
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

	const refreshToken = json.refresh_token;
	if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken.length === 0)) {
		throw new TokenError('Token response `refresh_token` is not a non-empty string (RFC 6749 §5.1)', {statusCode});
	}

	return {
		accessToken,
		tokenType,
		expiresIn: parseExpiresIn(json.expires_in, statusCode),
		scope: optionalString(json.scope),
		refreshToken,
	};
}
