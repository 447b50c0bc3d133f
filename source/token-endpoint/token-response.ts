import {isNonNegativeSeconds, isPlainObject} from '../checks.js';
import {TokenError, safeServerText} from '../errors.js';
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

/**
Where an answer came from, for messages that say what to check, and what the server must not be allowed to echo back.
*/
export type AnswerSource = {
	/**
	The token endpoint, without query or fragment.
	*/
	readonly endpoint: string;
	readonly clientId: string;
	/**
	The client's credentials as this attempt sent them.
	*/
	readonly secrets: ReadonlySet<string>;
};

function failurePrefix(source: AnswerSource | undefined, statusCode: number | undefined): string {
	const request = source === undefined ? 'Token request' : `Token request to ${source.endpoint} for client "${source.clientId}"`;
	return `${request} failed${statusCode === undefined ? '' : ` with HTTP ${statusCode}`}`;
}

const responseFrom = (source: AnswerSource | undefined): string => source === undefined ? 'Token response' : `Token response from ${source.endpoint}`;

/**
The `TokenError` an RFC 6749 §5.2 error response (or any failed response) stands for. The server's text is cleaned: it may hold anything, even the client's credentials echoed back.
*/
function tokenErrorFromResponse(json: JsonObject | undefined, statusCode: number | undefined, source: AnswerSource | undefined): TokenError {
	const clean = (value: unknown) => safeServerText(stringOrUndefined(value), source?.secrets);
	const error = clean(json?.error);
	const errorDescription = clean(json?.error_description);
	const details = {error, errorDescription, errorUri: clean(json?.error_uri), statusCode};
	if (error === undefined) {
		const hint = statusCode === 404 && source !== undefined ? `: is ${source.endpoint} the token endpoint?` : '';
		return new TokenError(`${failurePrefix(source, statusCode)} and no RFC 6749 §5.2 error response${hint}`, details);
	}

	const description = errorDescription === undefined ? '' : ` (${errorDescription})`;
	return new TokenError(`${failurePrefix(source, statusCode)}: ${error}${description}`, details);
}

/**
A token endpoint response as a successful answer, or the `TokenError` it is: a non-2xx status, a body that is not a JSON object, or a 200 with `error` (some servers send one).
*/
export function parseTokenEndpointResponse(statusCode: number, body: string, source: AnswerSource): TokenEndpointAnswer {
	const json = parseJsonObject(body);
	if (statusCode < 200 || statusCode > 299 || json?.error !== undefined) {
		throw tokenErrorFromResponse(json, statusCode, source);
	}

	if (json === undefined) {
		throw new TokenError(`${responseFrom(source)} is not a JSON object (RFC 6749 §5.1)`, {statusCode});
	}

	return {statusCode, json, source};
}

function parseExpiresIn(value: unknown, statusCode: number | undefined, source: AnswerSource | undefined): number | undefined {
	if (value === undefined || value === null) {
		return undefined;
	}

	// Azure AD v1 sends a numeric string.
	const expiresIn = typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/v.test(value) ? Number(value) : value;
	if (!isNonNegativeSeconds(expiresIn)) {
		throw new TokenError(`${responseFrom(source)} has an \`expires_in\` that is not a non-negative number of seconds (RFC 6749 §5.1)`, {statusCode});
	}

	return expiresIn;
}

const supportedTokenTypes = new Set(['bearer', 'dpop']);

/**
The token set in a successful response (RFC 6749 §5.1). Other members, such as RFC 8693's `issued_token_type`, are allowed and ignored. The JSON may come from a custom grant function, unchecked.
*/
export function parseTokenObject({json, statusCode, source}: {readonly json: unknown; readonly statusCode: number | undefined; readonly source?: AnswerSource}): TokenSet {
	if (!isPlainObject(json)) {
		throw new TokenError(`${responseFrom(source)} is not a JSON object (RFC 6749 §5.1)`, {statusCode});
	}

	// Some servers answer 200 with an error body.
	if (json.error !== undefined) {
		throw tokenErrorFromResponse(json, statusCode, source);
	}

	const {access_token: accessToken, token_type: _type, expires_in: _expiresIn, scope, refresh_token: _refreshToken, ...extra} = json;
	if (typeof accessToken !== 'string' || accessToken.length === 0) {
		throw new TokenError(`${responseFrom(source)} has no \`access_token\` string (RFC 6749 §5.1)`, {statusCode});
	}

	const tokenType = json.token_type ?? 'Bearer';
	// Whether the type is the one the request asked for is for the token endpoint to say: only it knows whether a DPoP proof went out.
	if (typeof tokenType !== 'string' || !supportedTokenTypes.has(tokenType.toLowerCase())) {
		const shown = typeof tokenType === 'string' ? tokenType.slice(0, 32) : typeof tokenType;
		throw new TokenError(`${responseFrom(source)} has the \`token_type\` "${shown}"; only Bearer (RFC 6750) and DPoP (RFC 9449) are supported`, {statusCode});
	}

	// Absent means "keep the one you have" (RFC 6749 §6); an empty one is no refresh token at all.
	const refreshToken = json.refresh_token;
	if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken.length === 0)) {
		throw new TokenError(`${responseFrom(source)} has a \`refresh_token\` that is not a non-empty string (RFC 6749 §5.1)`, {statusCode});
	}

	return {
		accessToken,
		tokenType,
		expiresIn: parseExpiresIn(json.expires_in, statusCode, source),
		scope: stringOrUndefined(scope),
		refreshToken,
		extra,
	};
}
