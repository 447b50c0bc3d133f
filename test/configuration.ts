/* eslint-disable unicorn/prefer-https -- http: URLs are what these tests are about. */
/*
A wrong configuration fails at `oauthHooks()` time, before any request, with a message that names the option. Each message is spelled out here in full: this file is also their documentation.
*/
import {createPrivateKey, generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import test from 'ava';
import {ConfigurationError, createTokenSource, entraWorkloadIdentity, oauthHooks, pemFromFile, tokenFromFile, type OAuthConfig} from '../source/index.js';
import {testPki} from './helpers/certificates.js';
import {unsignedJwt} from './helpers/fakes.js';

const secret = 'TOP-SECRET-9f2c';
const base: OAuthConfig = {tokenEndpoint: 'https://auth.example/token', clientId: 'client', clientSecret: secret};
const ecKey = generateKeyPairSync('ec', {namedCurve: 'P-256'});
const ecPem = ecKey.privateKey.export({format: 'pem', type: 'pkcs8'}) as string;
const ecPublicPem = ecKey.publicKey.export({format: 'pem', type: 'spki'}) as string;
const {d: _d, ...ecPublicJwk} = ecKey.privateKey.export({format: 'jwk'});
const shortRsa = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey;
const secp256k1 = generateKeyPairSync('ec', {namedCurve: 'secp256k1'}).privateKey;
const rsaPss = generateKeyPairSync('rsa-pss', {modulusLength: 2048}).privateKey;
const noSecret = {clientSecret: undefined};
const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const clientAssertion = unsignedJwt({sub: 'system:serviceaccount:payments:api'}) + 'c2ln';
const pki = testPki();
const clientCertificate = {certificate: pki.client.certificate, key: pki.client.key};
const encryptedKey = createPrivateKey(pki.client.key).export({format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right'}) as string;
const misspeltCertificate: Record<string, unknown> = {...clientCertificate, certficate: 'x'};
const certificateWithoutKey: Record<string, unknown> = {certificate: pki.client.certificate};

// The helpers that read the platform's files and variables check them when called, which is when the configuration is written.
const directory = mkdtempSync(path.join(tmpdir(), 'got-oauth-configuration-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});
const tokenFile = path.join(directory, 'token');
writeFileSync(tokenFile, clientAssertion);
const missing = path.join(directory, 'missing');
const entraEnvironment = {AZURE_CLIENT_ID: 'app', AZURE_TENANT_ID: 'tenant', AZURE_FEDERATED_TOKEN_FILE: tokenFile};

const bad: Array<[string, Partial<OAuthConfig> & Record<string, unknown>, string]> = [
	// Where the token comes from.
	['neither tokenEndpoint nor issuer', {tokenEndpoint: undefined}, '`tokenEndpoint` must be a URL or a string, or `issuer` given for discovery (RFC 8414)'],
	['a token endpoint that is a number', {tokenEndpoint: 443 as never}, '`tokenEndpoint` must be a URL or a string, got number'],
	[
		'an http: token endpoint off loopback',
		{tokenEndpoint: 'http://auth.example/token'},
		'`tokenEndpoint` must be an https: URL: http: is allowed only on loopback, or with `allowInsecureRequests: true` (RFC 6749 §3.2 requires TLS)',
	],
	[
		'an http: issuer off loopback',
		{tokenEndpoint: undefined, issuer: 'http://auth.example'},
		'`issuer` must be an https: URL: http: is allowed only on loopback, or with `allowInsecureRequests: true` (RFC 6749 §3.2 requires TLS)',
	],
	['an issuer with a query', {tokenEndpoint: undefined, issuer: 'https://auth.example/?tenant=a'}, '`issuer` must have no query or fragment (RFC 8414 §2)'],
	['an issuer given as a URL object', {tokenEndpoint: undefined, issuer: new URL('https://auth.example') as never}, '`issuer` must be a string, got object'],
	['an issuer that is not a URL', {tokenEndpoint: undefined, issuer: 'auth.example'}, '`issuer` is not an absolute URL'],
	['allowInsecureRequests as a string', {allowInsecureRequests: 'yes' as never}, '`allowInsecureRequests` must be a boolean, got string'],

	// Client authentication and its credentials.
	['no clientId', {clientId: undefined}, '`clientId` must be a non-empty string, got undefined'],
	['a clientId that is a number', {clientId: 42 as never}, '`clientId` must be a non-empty string, got number'],
	[
		'an unknown clientAuthentication',
		{clientAuthentication: 'client_secret_jws' as never},
		'`clientAuthentication` must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none',
	],
	['no credentials at all', noSecret, '`clientSecret` is required for client_secret_basic'],
	['client_secret_post without a secret', {...noSecret, clientAuthentication: 'client_secret_post'}, '`clientSecret` is required for client_secret_post'],
	['client_secret_jwt without a secret', {...noSecret, clientAuthentication: 'client_secret_jwt'}, '`clientSecret` is required for client_secret_jwt'],
	['an empty secret', {clientSecret: ''}, '`clientSecret` must be a non-empty string, got string'],
	['private_key_jwt without a key', {clientAuthentication: 'private_key_jwt'}, '`privateKey` or `clientAssertion` is required for private_key_jwt (RFC 7523 §2.2)'],
	[
		'tls_client_auth without a certificate',
		{...noSecret, clientAuthentication: 'tls_client_auth'},
		'`clientCertificate` (or `tokenRequest.https.certificate` and `tokenRequest.https.key`, or `tokenRequest.https.pfx`) is required for tls_client_auth (RFC 8705 §2)',
	],
	[
		'self_signed_tls_client_auth with a certificate but no key',
		{...noSecret, clientAuthentication: 'self_signed_tls_client_auth', tokenRequest: {https: {certificate: 'PEM'}}},
		'`clientCertificate` (or `tokenRequest.https.certificate` and `tokenRequest.https.key`, or `tokenRequest.https.pfx`) is required for self_signed_tls_client_auth (RFC 8705 §2)',
	],

	// A client assertion someone else signed.
	['a client assertion beside a secret', {clientAssertion}, '`clientAssertion` and `clientSecret` are two credentials for one client; give one (RFC 6749 §2.3)'],
	[
		'a client assertion beside the client\'s own key',
		{...noSecret, clientAssertion, privateKey: ecPem},
		'`clientAssertion` and `privateKey` both make the private_key_jwt assertion; give one (a `privateKey` only the JWT bearer grant signs with is fine)',
	],
	[
		'a client assertion beside a key and a given JWT bearer assertion, which leave the key the client\'s',
		{...noSecret, clientAssertion, privateKey: ecPem, grant: jwtBearer, assertion: 'eyJ.a.b'},
		'`clientAssertion` and `privateKey` both make the private_key_jwt assertion; give one (a `privateKey` only the JWT bearer grant signs with is fine)',
	],
	['a client assertion with another method', {...noSecret, clientAssertion, clientAuthentication: 'none'}, '`clientAssertion` is sent with private_key_jwt, not none'],
	['a client assertion that is not a JWT', {...noSecret, clientAssertion: 'not-a-jwt'}, '`clientAssertion` must be a JWT (three base64url parts separated by dots, RFC 7519 §3) or a function returning one'],
	['a client assertion that is a number', {...noSecret, clientAssertion: 42 as never}, '`clientAssertion` must be a non-empty string or a function returning one, got number'],
	['a client assertion type without an assertion', {clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'}, '`clientAssertionType` is only sent with a `clientAssertion`'],
	['a client assertion type that is not a string', {...noSecret, clientAssertion, clientAssertionType: 7 as never}, '`clientAssertionType` must be a non-empty string, got number'],

	// A client certificate given apart from the got options.
	['a client certificate that is a string', {...noSecret, clientCertificate: pki.client.certificate as never}, '`clientCertificate` must be an object {certificate, key, passphrase?}, got string'],
	['a misspelt client certificate member', {...noSecret, clientCertificate: misspeltCertificate as never}, '`clientCertificate.certficate` is not an option; did you mean `certificate`?'],
	['a client certificate that is a number', {...noSecret, clientCertificate: {...clientCertificate, certificate: 42 as never}}, '`clientCertificate.certificate` must be a PEM string or Uint8Array, or a function returning one, got number'],
	['a client certificate without its key', {...noSecret, clientCertificate: certificateWithoutKey as never}, '`clientCertificate.key` must be a PEM string or Uint8Array, or a function returning one, got undefined'],
	['a client certificate that is not one', {...noSecret, clientCertificate: {...clientCertificate, certificate: 'PEM'}}, '`clientCertificate.certificate` is not an X.509 certificate in PEM'],
	[
		'a client certificate key that is not one',
		{...noSecret, clientCertificate: {...clientCertificate, key: 'PEM'}},
		'`clientCertificate.key` is not an unencrypted private key in PEM; give `clientCertificate.passphrase` for an encrypted one',
	],
	[
		'an encrypted client certificate key and a wrong passphrase',
		{...noSecret, clientCertificate: {...clientCertificate, key: encryptedKey, passphrase: 'wrong'}},
		'`clientCertificate.key` is not a private key in PEM that `clientCertificate.passphrase` decrypts',
	],
	[
		'a client certificate of another key',
		{...noSecret, clientCertificate: {...clientCertificate, key: pki.renewed.key}},
		'`clientCertificate.certificate` is not the certificate of `clientCertificate.key`',
	],
	['a client certificate passphrase that is a number', {...noSecret, clientCertificate: {...clientCertificate, passphrase: 7 as never}}, '`clientCertificate.passphrase` must be a non-empty string, got number'],
	[
		'a client certificate in both places',
		{...noSecret, clientCertificate, tokenRequest: {https: {certificate: pki.client.certificate, key: pki.client.key}}},
		'`clientCertificate` and `tokenRequest.https.certificate` both give the client certificate; give one',
	],
	['a client certificate beside a pfx', {...noSecret, clientCertificate, tokenRequest: {https: {pfx: [{buffer: Buffer.from([1]), passphrase: 'p'}]}}}, '`clientCertificate` and `tokenRequest.https.pfx` both give the client certificate; give one'],

	// Keys.
	['an EC key for RS256', {privateKey: {key: ecKey.privateKey, alg: 'RS256'}}, '`privateKey.alg` is RS256, which an EC P-256 key cannot sign; it signs ES256'],
	['a JWK whose alg its key cannot sign', {privateKey: {...ecKey.privateKey.export({format: 'jwk'}), alg: 'EdDSA'}}, '`privateKey.alg` is EdDSA, which an EC P-256 key cannot sign; it signs ES256'],
	['a public KeyObject', {privateKey: ecKey.publicKey}, '`privateKey` must be a private key, got a public KeyObject'],
	[
		'an encrypted PEM key',
		{privateKey: ecKey.privateKey.export({format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pass'}) as string},
		'`privateKey` is not an unencrypted private key in PEM (PKCS#8, PKCS#1 or SEC1); decrypt it with crypto.createPrivateKey() and pass the KeyObject',
	],
	[
		'a public key in PEM',
		{privateKey: ecPublicPem},
		'`privateKey` is not an unencrypted private key in PEM (PKCS#8, PKCS#1 or SEC1); decrypt it with crypto.createPrivateKey() and pass the KeyObject',
	],
	['a public JWK', {privateKey: ecPublicJwk}, '`privateKey` is not a private JWK'],
	[
		'a PEM whose line breaks arrived as backslash-n, as from an environment variable',
		{privateKey: ecPem.replaceAll('\n', String.raw`\n`)},
		'`privateKey`' + String.raw` is a PEM whose line breaks are the two characters "\n", as an environment variable often delivers it; replace them with real line breaks, e.g. value.replaceAll('\\n', '\n')`,
	],
	['a number for a key', {privateKey: 42 as never}, '`privateKey` must be a KeyObject, a PEM string or a JWK, got number'],
	['an RSA key under 2048 bits', {privateKey: shortRsa}, '`privateKey` is an RSA key shorter than 2048 bits (RFC 7518 §3.3)'],
	['a secp256k1 key', {privateKey: secp256k1}, '`privateKey` is an EC secp256k1 key; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key'],
	['an RSA-PSS key', {privateKey: rsaPss}, '`privateKey` is an RSA-PSS key; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key'],
	['a certificate that is not one', {privateKey: {key: ecPem, certificate: 'not a certificate'}}, '`privateKey.certificate` is not an X.509 certificate in PEM'],
	['a certificate for another key', {privateKey: {key: ecPem, certificate: testPki().client.certificate}}, '`privateKey.certificate` is not the certificate of `privateKey.key`'],
	['a kid that is not a string', {privateKey: {key: ecPem, kid: 7 as never}}, '`privateKey.kid` must be a non-empty string, got number'],

	// Grants.
	[
		'an unknown grant',
		{grant: 'password' as never},
		'`grant` must be one of client_credentials, refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer, urn:ietf:params:oauth:grant-type:token-exchange, or a function',
	],
	['refresh_token without a refresh token', {grant: 'refresh_token'}, '`refreshToken` is required for the refresh_token grant, got undefined'],
	['a refresh token without the refresh_token grant', {refreshToken: 'rt'}, '`refreshToken` is only used with `grant: \'refresh_token\'`'],
	['onRefreshToken that is not a function', {grant: 'refresh_token', refreshToken: 'rt', onRefreshToken: 'store' as never}, '`onRefreshToken` must be a function, got string'],
	['jwt-bearer with neither assertion nor key', {grant: jwtBearer}, '`assertion` or `privateKey` to sign one is required for the JWT bearer grant (RFC 7523 §2.1)'],
	['jwt-bearer with an empty assertion', {grant: jwtBearer, assertion: ''}, '`assertion` must be a non-empty string or a function returning one, got string'],
	[
		'assertionClaims beside a given assertion',
		{grant: jwtBearer, assertion: 'eyJ...', assertionClaims: {sub: 'x'}},
		'`assertionClaims` is for the assertion `privateKey` signs; it cannot change a given `assertion`',
	],
	['assertionClaims that are not an object', {grant: jwtBearer, privateKey: ecPem, assertionClaims: 'sub=x' as never}, '`assertionClaims` must be an object of JWT claims, got string'],
	['token exchange without a subject token', {grant: tokenExchange}, '`subjectToken` is required for the token exchange grant (RFC 8693 §2.1)'],
	[
		'an actor token type without an actor token',
		{grant: tokenExchange, subjectToken: 'st', actorTokenType: 'urn:ietf:params:oauth:token-type:jwt'},
		'`actorTokenType` is only sent with an `actorToken` (RFC 8693 §2.1)',
	],
	['a subject token that is a number', {grant: tokenExchange, subjectToken: 42 as never}, '`subjectToken` must be a non-empty string or a function returning one, got number'],
	['a subjectToken without the token exchange grant', {subjectToken: 'st'}, '`subjectToken` is only used with `grant: \'urn:ietf:params:oauth:grant-type:token-exchange\'`'],

	// Parameters.
	['extraParams that set grant_type', {extraParams: {grant_type: 'password'}}, '`extraParams.grant_type` is set by got-oauth: use `grant`'],
	['extraParams that set scope', {extraParams: {scope: 'read'}}, '`extraParams.scope` is set by got-oauth: use `scope`'],
	['extraParams that set client_assertion', {extraParams: {client_assertion: 'eyJ.a.b'}}, '`extraParams.client_assertion` is set by got-oauth: use `clientAssertion`'],
	['extraParams with a number', {extraParams: {tenant: 7 as never}}, '`extraParams.tenant` must be a string or an array of strings, got number'],
	['extraParams as an array', {extraParams: [['tenant', 'a']] as never}, '`extraParams` must be an object of form parameters, got an array'],

	// Options that do not exist, or that would be silently ignored.
	['a misspelt option', {clientSecert: 'x'}, '`clientSecert` is not an option; did you mean `clientSecret`?'],
	['a misspelt option in another case', {tokenendpoint: 'https://auth.example/token'}, '`tokenendpoint` is not an option; did you mean `tokenEndpoint`?'],
	['an option that is nothing like one', {retries: 3}, '`retries` is not an option'],
	[
		'clientSecretBasicEncoding with another method',
		{clientAuthentication: 'client_secret_post', clientSecretBasicEncoding: 'plain'},
		'`clientSecretBasicEncoding` is only used with client_secret_basic, not client_secret_post',
	],
	['an unknown clientSecretBasicEncoding', {clientSecretBasicEncoding: 'base64' as never}, '`clientSecretBasicEncoding` must be \'form-urlencoded\' or \'plain\''],

	// Token request options: only those that cannot send the credentials elsewhere.
	...['followRedirect', 'hooks', 'prefixUrl', 'responseType', 'method', 'url'].map((name): [string, Partial<OAuthConfig> & Record<string, unknown>, string] => [
		`tokenRequest.${name}`,
		{tokenRequest: {[name]: true}},
		`\`tokenRequest.${name}\` is not accepted: token requests take only timeout, retry, https, agent, headers, dnsLookup, localAddress; got-oauth alone decides where the client's credentials go`,
	]),
	['tokenRequest that is not an object', {tokenRequest: 'fast' as never}, '`tokenRequest` must be an object of got options, got string'],

	// Configuration that could never work.
	['a clock that is not a function', {clock: 'x' as never}, '`clock` must be a function, got string'],
	['a token endpoint with a fragment', {tokenEndpoint: 'https://auth.example/token#x'}, '`tokenEndpoint` must have no fragment (RFC 6749 §3.2)'],
	['an origin without a scheme', {origins: ['localhost:3000']}, '`origins` must hold http: or https: origins such as https://api.example.com, got one with the scheme localhost:'],
	['an origin that is not http', {origins: ['ftp://files.example']}, '`origins` must hold http: or https: origins such as https://api.example.com, got one with the scheme ftp:'],
];

for (const [name, change, message] of bad) {
	test(`${name}: ConfigurationError from oauthHooks()`, t => {
		const error = t.throws(() => oauthHooks({...base, ...change}), {instanceOf: ConfigurationError});
		t.is(error.message, `got-oauth: ${message}`);
		// The option's name, for code that reports or fixes it.
		t.is(error.option, message.slice(1, message.indexOf('`', 1)));
		// Never key material or a secret, whatever the option.
		t.false(error.message.includes(secret));
		t.false(error.message.includes('PRIVATE KEY'));
		t.false(error.message.includes('PUBLIC KEY'));
	});
}

const good: Array<[string, Partial<OAuthConfig>]> = [
	['an http: token endpoint on 127.0.0.1', {tokenEndpoint: 'http://127.0.0.1:8080/token'}],
	['an http: token endpoint on localhost', {tokenEndpoint: 'http://localhost:8080/token'}],
	['an http: token endpoint on ::1', {tokenEndpoint: 'http://[::1]:8080/token'}],
	['an http: token endpoint elsewhere with allowInsecureRequests', {tokenEndpoint: 'http://auth.internal/token', allowInsecureRequests: true}],
	['an issuer without credentials (discovery may choose none)', {tokenEndpoint: undefined, issuer: 'https://auth.example', clientSecret: undefined}],
	['a PKCS#1 PEM RSA key', {privateKey: generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({format: 'pem', type: 'pkcs1'}) as string}],
	['a SEC1 PEM EC key', {privateKey: ecKey.privateKey.export({format: 'pem', type: 'sec1'}) as string}],
	['a P-384 key', {privateKey: generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey}],
	['a P-521 key', {privateKey: generateKeyPairSync('ec', {namedCurve: 'P-521'}).privateKey}],
	['a JWT bearer grant with a key and no other credentials', {grant: jwtBearer, privateKey: ecPem, clientSecret: undefined}],
	['a custom grant', {grant: async () => ({access_token: 'x'})}],
	['a client assertion alone (private_key_jwt)', {...noSecret, clientAssertion}],
	['a client assertion function and a SPIFFE assertion type', {...noSecret, clientAssertion: async () => clientAssertion, clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'}],
	['a client assertion for the client, a key for the JWT bearer grant', {...noSecret, clientAssertion, privateKey: ecPem, grant: jwtBearer}],
	['a client assertion with private_key_jwt named', {...noSecret, clientAssertion, clientAuthentication: 'private_key_jwt'}],
	['a client certificate as PEM (tls_client_auth)', {...noSecret, clientCertificate}],
	['a client certificate as bytes, its key encrypted', {...noSecret, clientCertificate: {certificate: Buffer.from(pki.client.certificate), key: Buffer.from(encryptedKey), passphrase: 'right'}}],
	['a client certificate as functions, for self_signed_tls_client_auth', {...noSecret, clientAuthentication: 'self_signed_tls_client_auth', clientCertificate: {certificate: () => pki.selfSigned.certificate, key: async () => pki.selfSigned.key}}],
	['a client certificate beside a CA in tokenRequest.https', {...noSecret, clientCertificate, tokenRequest: {https: {certificateAuthority: pki.ca}}}],
];

for (const [name, change] of good) {
	test(`${name} is accepted`, t => {
		t.notThrows(() => oauthHooks({...base, ...change}));
	});
}

const badHelpers: Array<[string, () => unknown, string]> = [
	['tokenFromFile() without a path, as from an unset variable', () => tokenFromFile(process.env.GOT_OAUTH_UNSET_VARIABLE!), '`tokenFromFile()` takes a file path, got undefined'],
	[
		'tokenFromFile() of a file that does not exist',
		() => tokenFromFile(missing),
		`\`tokenFromFile('${missing}')\` cannot read the file: it does not exist (ENOENT); check that the volume that holds it is mounted at that path`,
	],
	['tokenFromFile() of a directory', () => tokenFromFile(directory), `\`tokenFromFile('${directory}')\` cannot read the file: it is a directory (EISDIR), not a file`],
	['tokenFromFile() of a path through a file', () => tokenFromFile(path.join(tokenFile, 'token')), `\`tokenFromFile('${path.join(tokenFile, 'token')}')\` cannot read the file: it cannot be read (ENOTDIR)`],
	[
		'pemFromFile() of a file that does not exist',
		() => pemFromFile(missing),
		`\`pemFromFile('${missing}')\` cannot read the file: it does not exist (ENOENT); check that the volume that holds it is mounted at that path`,
	],
	...(['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE'] as const).map((variable): [string, () => unknown, string] => [
		`entraWorkloadIdentity() without ${variable}`,
		() => entraWorkloadIdentity({env: {...entraEnvironment, [variable]: ''}}),
		`\`${variable}\` is not set: the Microsoft Entra Workload ID webhook sets it in pods labelled \`azure.workload.identity/use: "true"\` whose service account names a client ID; or pass \`${{AZURE_CLIENT_ID: 'clientId', AZURE_TENANT_ID: 'tenantId', AZURE_FEDERATED_TOKEN_FILE: 'tokenFile'}[variable]}\``,
	]),
	[
		'entraWorkloadIdentity() with a token file that does not exist',
		() => entraWorkloadIdentity({env: {...entraEnvironment, AZURE_FEDERATED_TOKEN_FILE: missing}}),
		`\`tokenFromFile('${missing}')\` cannot read the file: it does not exist (ENOENT); check that the volume that holds it is mounted at that path`,
	],
	['entraWorkloadIdentity() with a tenant that is a path', () => entraWorkloadIdentity({env: {...entraEnvironment, AZURE_TENANT_ID: '../common'}}), '`AZURE_TENANT_ID` must be a tenant ID or a domain name'],
	['entraWorkloadIdentity() with a tenantId that is a path', () => entraWorkloadIdentity({env: entraEnvironment, tenantId: 'a/b'}), '`tenantId` must be a tenant ID or a domain name'],
	['entraWorkloadIdentity() with an authority host that is not a URL', () => entraWorkloadIdentity({env: {...entraEnvironment, AZURE_AUTHORITY_HOST: 'login.microsoftonline.com'}}), '`AZURE_AUTHORITY_HOST` is not an absolute URL'],
	['entraWorkloadIdentity() with a clientId that is a number', () => entraWorkloadIdentity({env: entraEnvironment, clientId: 42 as never}), '`clientId` must be a non-empty string, got number'],
];

for (const [name, make, message] of badHelpers) {
	test(`${name}: ConfigurationError when called`, t => {
		const error = t.throws(make, {instanceOf: ConfigurationError});
		t.is(error.message, `got-oauth: ${message}`);
	});
}

test('entraWorkloadIdentity() with its variables set is a configuration oauthHooks() accepts', t => {
	t.notThrows(() => oauthHooks({...entraWorkloadIdentity({env: entraEnvironment}), scope: 'https://graph.microsoft.com/.default'}));
});

test('an http: authority host on loopback needs no allowInsecureRequests; elsewhere it is refused like any token endpoint', t => {
	t.notThrows(() => oauthHooks({...entraWorkloadIdentity({env: {...entraEnvironment, AZURE_AUTHORITY_HOST: 'http://127.0.0.1:8080/'}})}));
	const error = t.throws(() => oauthHooks({...entraWorkloadIdentity({env: {...entraEnvironment, AZURE_AUTHORITY_HOST: 'http://login.internal/'}})}), {instanceOf: ConfigurationError});
	t.is(error.message, 'got-oauth: `tokenEndpoint` must be an https: URL: http: is allowed only on loopback, or with `allowInsecureRequests: true` (RFC 6749 §3.2 requires TLS)');
});

test('a configuration that is not an object is a ConfigurationError too', t => {
	for (const value of [undefined, null, 'https://auth.example/token', 42]) {
		for (const make of [oauthHooks, createTokenSource]) {
			const error = t.throws(() => make(value as never), {instanceOf: ConfigurationError});
			t.regex(error.message, /^got-oauth: `config` must be a configuration object or a TokenSource, got /v);
			t.is(error.option, 'config');
		}
	}
});

test('an isTokenRejected that is not a function is a ConfigurationError naming it', t => {
	const error = t.throws(() => oauthHooks(base, {isTokenRejected: 401 as never}), {instanceOf: ConfigurationError});
	t.is(error.message, 'got-oauth: `isTokenRejected` must be a function, got number');
	t.is(error.option, 'isTokenRejected');
});

test('the configuration is read once, at createTokenSource() time, before any request', t => {
	t.throws(() => createTokenSource({...base, grant: 'refresh_token'}), {instanceOf: ConfigurationError});
});
