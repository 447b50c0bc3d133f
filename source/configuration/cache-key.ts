import {fingerprint, sha256} from './fingerprint.js';
import type {NormalizedConfig} from './normalize.js';

const compare = (a: string, b: string): number => a < b ? -1 : (a > b ? 1 : 0);

/**
JSON with object keys sorted at every level, so equal configurations give equal text.
*/
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

/**
A key for the token a configuration gets: the same for two configurations only if they would get interchangeable tokens. It covers the endpoint, the client, how it authenticates, its certificate, the grant and whatever names its subject, and every form parameter; never the client secret, private key or client assertion, so rotating those keeps the key. Stable across processes, except that a function (a custom grant, a token callback) is known only by identity within this process.
*/
export function tokenCacheKey({endpoint, clientId, grant, parameters, tokenRequest, clientCertificate, dpop}: NormalizedConfig): string {
	const https = tokenRequest.https ?? {};
	return sha256(canonicalJson({
		version: 2,
		tokenEndpoint: endpoint.kind === 'configured' ? endpoint.target.tokenEndpoint.href : undefined,
		issuer: endpoint.kind === 'configured' ? endpoint.target.issuer : endpoint.discovery.issuer,
		clientId,
		// Undefined: chosen from the issuer's metadata, which the issuer already names.
		clientAuthentication: endpoint.kind === 'configured' ? endpoint.authentication.method : (endpoint.discovery.authentication.kind === 'decided' ? endpoint.discovery.authentication.authentication.method : undefined),
		// RFC 8705 §3: a token bound to one certificate is useless with another. A certificate a function reads changes under it, so the function counts, by identity.
		clientCertificate: fingerprint(https.certificate ?? https.pfx ?? clientCertificate?.certificate),
		grant: grant.identity,
		// Form order does not shape the token; the order of one parameter's values might, and a stable sort keeps it.
		parameters: parameters.toSorted(([a], [b]) => compare(a, b)),
		// RFC 9449: a DPoP-bound token is useless without its key, and one that may be a bearer token is not what a strict configuration accepts. Absent without DPoP, so other keys are unchanged.
		dpop: dpop?.identity,
	}));
}
