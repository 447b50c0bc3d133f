import type {KeyObject} from 'node:crypto';
import {
	checkClientAuthentication,
	clientAuthenticationOptionNames,
	clientAuthenticationParameterNames,
	type ClientAuthenticationOptions,
} from '../client-authentication/options.js';
import type {PreparedAuthentication} from '../client-authentication/registry.js';
import {checkOptionalString, isPlainObject} from '../checks.js';
import {checkDpopOptions, dpopOptionNames, type DpopOptions, type DpopSettings} from '../dpop/options.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {gotOptionNames, type GotOptions} from '../got/options.js';
import {originOptionNames, type OriginOptions} from '../origin-policy.js';
import {
	checkTokenParameters,
	tokenParameterNames,
	tokenParameterOptionNames,
	type TokenParameterOptions,
} from '../grants/common-parameters.js';
import type {PreparedGrant} from '../grants/grant.js';
import {
	grantOptionNames,
	grantParameterNames,
	prepareGrant,
	type GrantSelection,
} from '../grants/registry.js';
import {checkSigningKey} from '../signing/signing-key.js';
import type {ClientCertificateSettings} from '../token-endpoint/client-certificate.js';
import type {DiscoverySettings} from '../token-endpoint/discovery.js';
import {checkTokenEndpointOptions, tokenEndpointOptionNames, type TokenEndpointOptions, type TokenRequestOptions} from '../token-endpoint/options.js';
import type {FormEntries, TokenEndpointTarget} from '../token-endpoint/fetch-token.js';
import {storeOptionNames, type StoreOptions} from '../stores/options.js';
import {cacheOptionNames, type CacheOptions} from '../token-source/cache-options.js';
import {refuseUnknownOptions} from './known-options.js';

/**
Everything `oauthHooks()` and `createTokenSource()` take: where the token endpoint is and how to reach it, who the client is and how it proves it, which grant, what to ask for, how to cache, and where the token may go. Each part's options are documented beside their checks.
*/
export type OAuthConfig = TokenEndpointOptions & ClientAuthenticationOptions & GrantSelection & TokenParameterOptions & CacheOptions & OriginOptions & GotOptions & StoreOptions & DpopOptions;

/**
Where the token endpoint is, and how the client authenticates there. A configured endpoint has its method decided; only discovery may leave it to the server's metadata.
*/
export type TokenEndpointPlan =
	| {readonly kind: 'configured'; readonly target: TokenEndpointTarget; readonly authentication: PreparedAuthentication}
	| {readonly kind: 'discovered'; readonly discovery: DiscoverySettings};

/**
A configuration, checked: what a token source is built from.
*/
export type NormalizedConfig = {
	readonly endpoint: TokenEndpointPlan;
	readonly clientId: string;
	readonly grant: PreparedGrant;
	/**
	`scope`, `audience`, `resource` and `extraParams`, for every token request.
	*/
	readonly parameters: FormEntries;
	readonly tokenRequest: TokenRequestOptions;
	/**
	Seconds.
	*/
	readonly tokenTimeout: number;
	/**
	A client certificate read for every token request attempt, in place of one in `tokenRequest.https`.
	*/
	readonly clientCertificate: ClientCertificateSettings | undefined;
	/**
	What the client proves itself with, for a store to derive an encryption key from.
	*/
	readonly credentials: {readonly clientSecret: string | undefined; readonly privateKey: KeyObject | undefined};
	/**
	DPoP (RFC 9449), when on.
	*/
	readonly dpop: DpopSettings | undefined;
};

const knownOptions: readonly string[] = [
	...tokenEndpointOptionNames,
	...clientAuthenticationOptionNames,
	...grantOptionNames,
	...tokenParameterOptionNames,
	...cacheOptionNames,
	...storeOptionNames,
	...originOptionNames,
	...gotOptionNames,
	...dpopOptionNames,
];

/**
The form parameters got-oauth sets itself, with the option that sets each: `extraParams` may not set them.
*/
const reservedParameters: ReadonlyMap<string, string> = new Map([
	...grantParameterNames,
	...Object.entries(clientAuthenticationParameterNames),
	...Object.entries(tokenParameterNames),
]);

export function normalizeConfig(config: OAuthConfig): NormalizedConfig {
	if (!isPlainObject(config)) {
		throw new ConfigurationError('config', `must be a configuration object or a TokenSource, got ${describeValue(config)}`);
	}

	refuseUnknownOptions(config, knownOptions);
	const endpointSettings = checkTokenEndpointOptions(config);
	const clientId = checkOptionalString('clientId', config.clientId);
	if (clientId === undefined) {
		throw new ConfigurationError('clientId', `must be a non-empty string, got ${describeValue(config.clientId)}`);
	}

	const privateKey = config.privateKey === undefined ? undefined : checkSigningKey('privateKey', config.privateKey);
	const grant = prepareGrant(config, {clientId, privateKey});
	const authentication = checkClientAuthentication(config, {
		clientId,
		privateKey,
		hasClientCertificate: endpointSettings.hasClientCertificate,
		grantAuthenticatesClient: grant.authenticatesClient,
		grantUsesPrivateKey: grant.usesPrivateKey,
	});
	const {location, isInsecureAllowed, tokenRequest, hasClientCertificate, clientCertificate} = endpointSettings;
	const endpoint: TokenEndpointPlan = location.kind === 'configured'
		? {kind: 'configured', target: location, authentication: authentication.forConfiguredEndpoint()}
		: {kind: 'discovered', discovery: {issuer: location.issuer, isInsecureAllowed, tokenRequest, hasClientCertificate, authentication: authentication.forDiscoveredEndpoint()}};

	return {
		endpoint,
		clientId,
		grant,
		parameters: checkTokenParameters(config, reservedParameters),
		tokenRequest,
		tokenTimeout: endpointSettings.tokenTimeout,
		clientCertificate,
		credentials: {clientSecret: authentication.clientSecret, privateKey: privateKey?.key},
		// With a store, the key goes into the stored entry for the processes that adopt its token.
		dpop: checkDpopOptions(config.dpop, {isExportable: config.store !== undefined}),
	};
}
