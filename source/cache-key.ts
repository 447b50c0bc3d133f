import {createHash} from 'node:crypto';
import type {NormalizedConfig, TokenValue} from './options.js';

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('base64url');

/** Functions have no content to hash: each gets its own number, so two callbacks never share a key. Process-local. */
type AnyFunction = (...arguments_: never[]) => unknown;
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

/**
A stand-in for a value that makes the token someone else's (a refresh token, a subject token, a certificate) but must not appear as itself.
*/
function fingerprint(value: unknown): string | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (typeof value === 'function') {
		return functionId(value as AnyFunction);
	}

	const isBytes = (item: unknown): item is string | Uint8Array => typeof item === 'string' || item instanceof Uint8Array;
	// One value, a list of certificates, or got's pfx entries `{buffer, passphrase}` of which only `buffer` names the certificate.
	return sha256([value].flat().map(item => sha256(isBytes(item) ? item : (item as {buffer: string | Uint8Array}).buffer)).join(','));
}

const compare = (a: string, b: string): number => a < b ? -1 : (a > b ? 1 : 0);

/** JSON with object keys sorted at every level, so equal configurations give equal text. */
function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) {
		return `[${value.map(item => canonicalJson(item)).join(',')}]`;
	}

	// A Date or anything else with its own JSON form is left to it.
	if (typeof value === 'object' && value !== null && !('toJSON' in value)) {
		const entries = Object.entries(value).filter(([, item]) => item !== undefined).toSorted(([a], [b]) => compare(a, b));
		return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
	}

	return JSON.stringify(value) ?? 'null';
}

function grantIdentity(grant: NormalizedConfig['grant']): Record<string, unknown> {
	switch (grant.type) {
		case 'refresh_token': {
			// The first refresh token names the grant; rotation must not change the key.
			return {type: grant.type, refreshToken: fingerprint(grant.refreshToken)};
		}

		case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
			return {type: grant.type, assertion: fingerprint(grant.assertion), assertionClaims: grant.assertionClaims};
		}

		case 'urn:ietf:params:oauth:grant-type:token-exchange': {
			const {subjectToken, subjectTokenType, actorToken, actorTokenType, requestedTokenType} = grant;
			return {
				type: grant.type,
				subjectToken: fingerprint(subjectToken satisfies TokenValue),
				subjectTokenType,
				actorToken: fingerprint(actorToken),
				actorTokenType,
				requestedTokenType,
			};
		}

		case 'custom': {
			return {type: grant.type, request: fingerprint(grant.request)};
		}

		case 'client_credentials': {
			return {type: grant.type};
		}
	}
}

/**
A key for the token a configuration gets: the same for two configurations only if they would get interchangeable tokens. It covers the endpoint, the client, how it authenticates, the grant and whatever names its subject, scope, audience, resource and extra parameters; never the client secret or private key, so rotating those keeps the key. Stable across processes, except that a function (a custom grant, a token callback) is known only by identity within this process.
*/
export function tokenCacheKey(config: NormalizedConfig): string {
	const https = config.tokenRequest.https ?? {};
	return sha256(canonicalJson({
		version: 1,
		tokenEndpoint: config.tokenEndpoint?.href,
		issuer: config.issuer,
		clientId: config.clientId,
		// Undefined: chosen from the issuer's metadata, which the issuer already names.
		clientAuthentication: config.clientAuthentication,
		// RFC 8705 §3: a token bound to one certificate is useless with another.
		clientCertificate: fingerprint(https.certificate ?? https.pfx),
		grant: grantIdentity(config.grant),
		scope: config.scope,
		audience: config.audience,
		resource: config.resource,
		// Form order does not shape the token; the order of one parameter's values might.
		extraParams: config.extraParams.toSorted(([a], [b]) => compare(a, b)),
	}));
}
