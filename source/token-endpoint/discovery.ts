import {performance} from 'node:perf_hooks';
import type {Got} from 'got';
import type {AuthenticationChoice} from '../client-authentication/options.js';
import type {PreparedAuthentication} from '../client-authentication/registry.js';
import {isPlainObject} from '../checks.js';
import {publishDiscoveryFailure, publishDiscoverySuccess} from '../diagnostics/channels.js';
import {TokenError} from '../errors.js';
import {authorizationServerClient, cappedRequest, type Deadline} from './client.js';
import type {TokenRequestOptions} from './options.js';
import type {TokenEndpointTarget} from './fetch-token.js';
import {parseJsonObject} from './token-response.js';
import {insecureProblem} from './url-policy.js';

/**
The members of RFC 8414 §2 (and RFC 8705 §5) that a token request needs.
*/
type AuthorizationServerMetadata = {
	readonly issuer: string;
	readonly tokenEndpoint: URL;
	/**
	RFC 8414 §2: absent means `client_secret_basic` only.
	*/
	readonly tokenEndpointAuthMethodsSupported: readonly string[] | undefined;
	/**
	RFC 8705 §5 `mtls_endpoint_aliases.token_endpoint`.
	*/
	readonly mtlsTokenEndpoint: URL | undefined;
};

/**
A token endpoint, and how to authenticate there.
*/
export type ResolvedEndpoint = TokenEndpointTarget & {
	readonly authentication: PreparedAuthentication;
};

export type DiscoverySettings = {
	readonly issuer: string;
	readonly isInsecureAllowed: boolean;
	readonly tokenRequest: TokenRequestOptions;
	readonly authentication: AuthenticationChoice;
	readonly hasClientCertificate: boolean;
};

/**
Where an issuer's metadata may be: RFC 8414 §3.1 first, which inserts the well-known segment before the issuer's path, then OpenID Connect Discovery 1.0 §4, which appends it.
*/
function metadataUrls(issuer: string): [URL, URL] {
	const url = new URL(issuer);
	// RFC 8414 §3.1: a terminating "/" is removed before inserting.
	const path = url.pathname.replace(/\/$/v, '');
	return [
		new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
		new URL(`${path}/.well-known/openid-configuration`, url.origin),
	];
}

function shown(value: unknown): string {
	return typeof value === 'string' ? `"${value.slice(0, 200)}"` : typeof value;
}

function endpoint(value: unknown, member: string, source: URL, isInsecureAllowed: boolean): URL {
	let url: URL | undefined;
	try {
		url = typeof value === 'string' ? new URL(value) : undefined;
	} catch {}

	if (url === undefined) {
		throw new TokenError(`The metadata at ${source.href} has no absolute \`${member}\` URL (RFC 8414 §2)`);
	}

	const problem = insecureProblem(url, isInsecureAllowed);
	if (problem !== undefined) {
		throw new TokenError(`The metadata at ${source.href} names a \`${member}\` that ${problem}`);
	}

	return url;
}

/**
Validate a metadata document: it must be about the configured issuer (RFC 8414 §3.3, against a server that impersonates another) and name a usable token endpoint.
*/
function readMetadata(json: Record<string, unknown>, source: URL, issuer: string, isInsecureAllowed: boolean): AuthorizationServerMetadata {
	if (json.issuer !== issuer) {
		throw new TokenError(`The metadata at ${source.href} is for issuer ${shown(json.issuer)}, not the configured "${issuer}"; RFC 8414 §3.3 forbids using it`);
	}

	const methods = json.token_endpoint_auth_methods_supported;
	if (methods !== undefined && (!Array.isArray(methods) || methods.some(method => typeof method !== 'string'))) {
		throw new TokenError(`The metadata at ${source.href} has a \`token_endpoint_auth_methods_supported\` that is not an array of strings (RFC 8414 §2)`);
	}

	const aliases = json.mtls_endpoint_aliases;
	const alias = isPlainObject(aliases) && aliases.token_endpoint !== undefined
		? endpoint(aliases.token_endpoint, 'mtls_endpoint_aliases.token_endpoint', source, isInsecureAllowed)
		: undefined;

	return {
		issuer,
		tokenEndpoint: endpoint(json.token_endpoint, 'token_endpoint', source, isInsecureAllowed),
		tokenEndpointAuthMethodsSupported: methods as string[] | undefined,
		mtlsTokenEndpoint: alias,
	};
}

async function fetchMetadata(client: Got, issuer: string, isInsecureAllowed: boolean, deadline: Deadline): Promise<AuthorizationServerMetadata> {
	const statuses: string[] = [];
	for (const url of metadataUrls(issuer)) {
		// eslint-disable-next-line no-await-in-loop
		const response = await cappedRequest(client, url, {method: 'GET'}, `Metadata request to ${url.href}`, deadline);
		const json = response.statusCode === 200 ? parseJsonObject(response.body) : undefined;
		if (json !== undefined) {
			return readMetadata(json, url, issuer, isInsecureAllowed);
		}

		statuses.push(`${url.href} answered HTTP ${response.statusCode}${response.statusCode === 200 ? ' without a JSON object' : ''}`);
	}

	throw new TokenError(`No authorization server metadata for issuer "${issuer}": ${statuses.join('; ')} (RFC 8414 §3)`);
}

/**
The client certificate is for the token endpoint alone.
*/
function withoutClientCertificate(options: TokenRequestOptions): TokenRequestOptions {
	const {certificate, key, pfx, passphrase, ...https} = options.https ?? {};
	return {...options, https};
}

/**
The method to use: the configured one, or the first the credentials allow that the server supports (RFC 8414 §2: none listed means `client_secret_basic`).
*/
function chooseAuthentication(choice: AuthenticationChoice, supported: readonly string[] | undefined, issuer: string): PreparedAuthentication {
	if (choice.kind === 'decided') {
		return choice.authentication;
	}

	const methods = supported ?? ['client_secret_basic'];
	const chosen = choice.allowed.find(({method}) => methods.includes(method));
	if (chosen === undefined) {
		throw new TokenError(`Issuer "${issuer}" supports client authentication by ${methods.join(', ')}; the credentials given allow ${choice.allowed.map(({method}) => method).join(', ')}. Set \`clientAuthentication\` and its credentials`);
	}

	return chosen;
}

/**
Resolves the token endpoint and client authentication from the issuer's metadata: fetched on first use, kept for the life of the token source, fetched again after a failure.
*/
export function createDiscovery(settings: DiscoverySettings): (deadline: Deadline) => Promise<ResolvedEndpoint> {
	const {issuer, isInsecureAllowed} = settings;
	const client = authorizationServerClient(withoutClientCertificate(settings.tokenRequest), {isReplaySafe: true});
	let resolved: Promise<ResolvedEndpoint> | undefined;

	async function discover(deadline: Deadline): Promise<ResolvedEndpoint> {
		const started = performance.now();
		try {
			const metadata = await fetchMetadata(client, issuer, isInsecureAllowed, deadline);
			const authentication = chooseAuthentication(settings.authentication, metadata.tokenEndpointAuthMethodsSupported, issuer);
			// RFC 8705 §5: a client that presents a certificate uses the mTLS alias.
			const tokenEndpoint = settings.hasClientCertificate && metadata.mtlsTokenEndpoint !== undefined ? metadata.mtlsTokenEndpoint : metadata.tokenEndpoint;
			publishDiscoverySuccess(issuer, tokenEndpoint, started);
			return {tokenEndpoint, issuer, authentication};
		} catch (error) {
			publishDiscoveryFailure(issuer, error, started);
			throw error;
		}
	}

	return async deadline => {
		resolved ??= discover(deadline).catch((error: unknown) => {
			// A failure is not kept: the next token request asks again.
			resolved = undefined;
			throw error;
		});
		return resolved;
	};
}
