import {checkOptionalString, optionNames} from '../checks.js';
import {ConfigurationError} from '../errors.js';
import {checkTokenValue, type TokenValue} from '../grants/grant.js';
import type {NormalizedSigningKey, SigningKey} from '../signing/signing-key.js';
import {isCompactJwt, jwtBearerAssertionType} from './client-assertion.js';
import {
	allowedAuthentications,
	clientAuthenticationNames,
	isClientAuthentication,
	prepareAuthentication,
	type ClientAuthentication,
	type PreparedAuthentication,
} from './registry.js';

export type ClientAuthenticationOptions = {
	/**
	The client's identifier (RFC 6749 §2.2).
	*/
	clientId: string;

	/**
	The client secret, for `client_secret_basic`, `client_secret_post` and `client_secret_jwt`.
	*/
	clientSecret?: string;

	/**
	Signs `private_key_jwt` client assertions, and the JWT bearer grant's assertion when `assertion` is not given. A `KeyObject`, an unencrypted PEM or a private JWK; optionally `{key, alg, kid, certificate}`.

	@see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
	*/
	privateKey?: SigningKey;

	/**
	A client assertion signed by someone else, for `private_key_jwt` without a key of your own: the Kubernetes service account token that Microsoft Entra Workload ID trusts, a SPIFFE JWT-SVID. A JWT, or a function returning one (sync or async), called afresh for every token request attempt, got's retries included, and never kept, as the platform rotates it; `tokenFromFile(path)` reads it from the file the platform writes. Sent as `client_assertion` with `clientAssertionType`. Not with `clientSecret` or a client `privateKey`.

	@see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
	@see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
	*/
	clientAssertion?: TokenValue;

	/**
	The `client_assertion_type` sent with `clientAssertion`. A SPIFFE JWT-SVID at a server that follows the OAuth SPIFFE Client Authentication draft (Keycloak) is `'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'`.

	@default 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
	@see https://www.rfc-editor.org/rfc/rfc7521#section-4.2
	*/
	clientAssertionType?: string;

	/**
	How the client authenticates at the token endpoint.

	@default Chosen from the credentials: `private_key_jwt` with a `privateKey` or a `clientAssertion`, `tls_client_auth` with a `clientCertificate` or a certificate in `tokenRequest.https`, else `client_secret_basic`; with `issuer`, the first of these the server's metadata lists.
	@see https://www.rfc-editor.org/rfc/rfc8414#section-2
	*/
	clientAuthentication?: ClientAuthentication;

	/**
	How `client_secret_basic` encodes the id and secret before base64. RFC 6749 §2.3.1 says form-urlencode them first, so `+`, `/`, `=`, `%`, `:` and non-ASCII characters arrive intact; some servers do not decode them, and need `'plain'`.

	@default 'form-urlencoded'
	@see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
	*/
	clientSecretBasicEncoding?: 'form-urlencoded' | 'plain';
};

export const clientAuthenticationOptionNames = optionNames<ClientAuthenticationOptions>()([
	'clientId',
	'clientSecret',
	'privateKey',
	'clientAssertion',
	'clientAssertionType',
	'clientAuthentication',
	'clientSecretBasicEncoding',
]);

/**
How the client authenticates when the issuer's metadata names the token endpoint: decided by the configuration, or left to the metadata among the methods the credentials allow.
*/
export type AuthenticationChoice =
	| {readonly kind: 'decided'; readonly authentication: PreparedAuthentication}
	| {readonly kind: 'from-metadata'; readonly allowed: readonly PreparedAuthentication[]};

export type ClientAuthenticationSettings = {
	/**
	The client secret as given: what a shared store derives its encryption key from.
	*/
	readonly clientSecret: string | undefined;
	/**
	How to authenticate at a configured token endpoint: there is no metadata to choose from.
	*/
	forConfiguredEndpoint(): PreparedAuthentication;
	/**
	How to authenticate at the token endpoint an issuer's metadata names.
	*/
	forDiscoveredEndpoint(): AuthenticationChoice;
};

export type AuthenticationContext = {
	/**
	Checked already: the grant needs it too.
	*/
	readonly clientId: string;
	/**
	Checked already: it may also be the grant's.
	*/
	readonly privateKey: NormalizedSigningKey | undefined;
	readonly hasClientCertificate: boolean;
	/**
	The grant's own assertion proves the client (RFC 7523 §2.1), so no credentials is not a mistake.
	*/
	readonly grantAuthenticatesClient: boolean;
	/**
	The grant signs with `privateKey`; it is then not the client's.
	*/
	readonly grantUsesPrivateKey: boolean;
};

/**
The form parameters client authentication sets, with the option that sets each.
*/
export const clientAuthenticationParameterNames = {
	client_id: 'clientId',
	client_secret: 'clientSecret',
	client_assertion: 'clientAssertion',
	client_assertion_type: 'clientAssertionType',
} as const;

/**
A client assertion is `private_key_jwt`'s credential when the platform signs it: with a secret or a key of the client's own as well, which to send would be a guess (RFC 6749 §2.3: one method per request). A `privateKey` the JWT bearer grant signs with is the grant's, not a second credential.
*/
function checkClientAssertion(
	{clientAssertion, clientAssertionType}: ClientAuthenticationOptions,
	{configured, clientSecret, privateKey}: {configured: ClientAuthentication | undefined; clientSecret: string | undefined; privateKey: NormalizedSigningKey | undefined},
): {value: TokenValue; type: string} | undefined {
	const type = checkOptionalString('clientAssertionType', clientAssertionType);
	if (clientAssertion === undefined) {
		if (type !== undefined) {
			throw new ConfigurationError('clientAssertionType', 'is only sent with a `clientAssertion`');
		}

		return undefined;
	}

	const value = checkTokenValue('clientAssertion', clientAssertion);
	if (typeof value === 'string' && !isCompactJwt(value)) {
		throw new ConfigurationError('clientAssertion', 'must be a JWT (three base64url parts separated by dots, RFC 7519 §3) or a function returning one');
	}

	if (clientSecret !== undefined) {
		throw new ConfigurationError('clientAssertion', 'and `clientSecret` are two credentials for one client; give one (RFC 6749 §2.3)');
	}

	if (privateKey !== undefined) {
		throw new ConfigurationError('clientAssertion', 'and `privateKey` both make the private_key_jwt assertion; give one (a `privateKey` only the JWT bearer grant signs with is fine)');
	}

	if (configured !== undefined && configured !== 'private_key_jwt') {
		throw new ConfigurationError('clientAssertion', `is sent with private_key_jwt, not ${configured}`);
	}

	return {value, type: type ?? jwtBearerAssertionType};
}

export function checkClientAuthentication(options: ClientAuthenticationOptions, context: AuthenticationContext): ClientAuthenticationSettings {
	const {clientId} = context;
	const configured: unknown = options.clientAuthentication;
	if (configured !== undefined && !isClientAuthentication(configured)) {
		throw new ConfigurationError('clientAuthentication', `must be one of ${clientAuthenticationNames.join(', ')}`);
	}

	const {clientSecretBasicEncoding: basicEncoding = 'form-urlencoded'} = options;
	if (basicEncoding !== 'form-urlencoded' && basicEncoding !== 'plain') {
		throw new ConfigurationError('clientSecretBasicEncoding', 'must be \'form-urlencoded\' or \'plain\'');
	}

	if (configured !== undefined && configured !== 'client_secret_basic' && options.clientSecretBasicEncoding !== undefined) {
		throw new ConfigurationError('clientSecretBasicEncoding', `is only used with client_secret_basic, not ${configured}`);
	}

	const clientSecret = checkOptionalString('clientSecret', options.clientSecret);
	const privateKey = context.grantUsesPrivateKey ? undefined : context.privateKey;
	const credentials = {
		clientId,
		clientSecret,
		privateKey,
		clientAssertion: checkClientAssertion(options, {configured, clientSecret, privateKey}),
		hasClientCertificate: context.hasClientCertificate,
		basicEncoding,
	};
	const decided = configured === undefined ? undefined : prepareAuthentication(configured, credentials);

	return {
		clientSecret,
		forConfiguredEndpoint() {
			if (decided !== undefined) {
				return decided;
			}

			// A public client says so with 'none', unless the grant's assertion is the credential.
			const [best] = allowedAuthentications(credentials);
			return !context.grantAuthenticatesClient && best.method === 'none' ? prepareAuthentication('client_secret_basic', credentials) : best;
		},
		forDiscoveredEndpoint: () => decided === undefined
			? {kind: 'from-metadata', allowed: allowedAuthentications(credentials)}
			: {kind: 'decided', authentication: decided},
	};
}
