import type {TokenValue} from '../grants/grant.js';
import type {NormalizedSigningKey} from '../signing/signing-key.js';
import type {RequestParts, TokenEndpointTarget} from '../token-endpoint/fetch-token.js';

/**
What the configuration gives a client to prove itself with. A method takes what it needs; each is checked once, when the configuration is read.
*/
export type ClientCredentials = {
	readonly clientId: string;
	readonly clientSecret: string | undefined;
	/**
	Absent also when the key is the JWT bearer grant's, not the client's.
	*/
	readonly privateKey: NormalizedSigningKey | undefined;
	/**
	A client assertion someone else signed, with its `client_assertion_type`.
	*/
	readonly clientAssertion: {readonly value: TokenValue; readonly type: string} | undefined;
	/**
	`clientCertificate` is given, or `tokenRequest.https` holds a client certificate and its key.
	*/
	readonly hasClientCertificate: boolean;
	/**
	How `client_secret_basic` encodes the id and secret.
	*/
	readonly basicEncoding: 'form-urlencoded' | 'plain';
};

/**
Authenticates one token request attempt by adding to its form and headers. Called again for every retry, so an assertion is never sent twice.
*/
export type Authenticate = (parts: RequestParts, target: TokenEndpointTarget) => Promise<void>;

/**
Why a method cannot be used with the credentials given: the option to set, and what is wrong.
*/
export type MissingCredential = {
	readonly option: string;
	readonly problem: string;
};

/**
The kind of proof a method rests on. Chosen in this order when the configuration leaves it open: an asymmetric key or a certificate before a shared secret.
*/
export const credentialKinds = ['privateKey', 'certificate', 'secret', 'none'] as const;

export type ClientAuthenticationMethod = {
	/**
	The name as RFC 8414 `token_endpoint_auth_methods_supported` lists it.
	*/
	readonly name: string;
	readonly credential: (typeof credentialKinds)[number];
	/**
	An authenticator for these credentials, or what they lack.
	*/
	prepare(credentials: ClientCredentials): Authenticate | MissingCredential;
};
