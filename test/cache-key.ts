/*
`cacheKey`: equal for configurations that get interchangeable tokens, different whenever anything that shapes the token differs, and made of nothing secret.
*/
import {generateKeyPairSync} from 'node:crypto';
import test from 'ava';
import {createTokenSource, type OAuthConfig} from '../source/index.js';
import {testPki} from './helpers/certificates.js';
import {unsignedJwt} from './helpers/fakes.js';

const base: OAuthConfig = {tokenEndpoint: 'https://auth.example/token', clientId: 'client', clientSecret: 'secret'};
const keyOf = (config: OAuthConfig): string => createTokenSource(config).cacheKey;
const callback = async () => 'token';

test('a cache key is a SHA-256, base64url', t => {
	t.regex(keyOf(base), /^[\w\-]{43}$/v);
});

test('equal configurations have equal keys, whatever the order of keys and scope given as a string or an array', t => {
	t.is(keyOf({...base, scope: ['a', 'b'], extraParams: {x: ['1', '2'], y: '3'}}), keyOf({extraParams: {y: '3', x: ['1', '2']}, scope: 'a b', clientSecret: 'secret', clientId: 'client', tokenEndpoint: new URL('https://auth.example/token')}));
	t.not(keyOf({...base, extraParams: {x: ['1', '2']}}), keyOf({...base, extraParams: {x: ['2', '1']}}));
});

test('what only proves who the client is does not change the key: a rotated secret or key, the cache options', t => {
	t.is(keyOf(base), keyOf({...base, clientSecret: 'rotated'}));
	t.is(keyOf(base), keyOf({...base, expiryMargin: 10, refreshAhead: 0, tokenRequest: {timeout: {request: 1000}}}));
	const pem = (): string => generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'pem', type: 'pkcs8'}) as string;
	t.is(keyOf({...base, clientSecret: undefined, privateKey: pem()}), keyOf({...base, clientSecret: undefined, privateKey: pem()}));
});

test('a client assertion only proves who the client is: another assertion, or a function for it, or a key signing it here, keeps the key', t => {
	const platform = (subject: string) => ({...base, clientSecret: undefined, clientAssertion: unsignedJwt({sub: subject}) + 'c2ln'});
	const key = keyOf(platform('system:serviceaccount:payments:api'));
	t.is(key, keyOf(platform('rotated')));
	t.is(key, keyOf({...base, clientSecret: undefined, clientAssertion: async () => 'eyJ.a.b'}));
	t.is(key, keyOf({...base, clientSecret: undefined, clientAssertion: async () => 'eyJ.c.d', clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'}));
	t.is(key, keyOf({...base, clientSecret: undefined, privateKey: generateKeyPairSync('ed25519').privateKey}));
	t.false(key.includes('c2ln'));
});

test('a client certificate counts the same given in clientCertificate or tokenRequest.https; one read by a function counts by the function', t => {
	const {client, renewed} = testPki();
	const pem = (certificate: string, key: string): OAuthConfig => ({...base, clientSecret: undefined, clientCertificate: {certificate, key}});
	t.is(keyOf(pem(client.certificate, client.key)), keyOf({...base, clientSecret: undefined, tokenRequest: {https: {certificate: client.certificate, key: client.key}}}));
	t.is(keyOf(pem(client.certificate, client.key)), keyOf({...base, clientSecret: undefined, clientCertificate: {certificate: Buffer.from(client.certificate), key: client.key}}));
	t.not(keyOf(pem(client.certificate, client.key)), keyOf(pem(renewed.certificate, renewed.key)));

	const certificate = async () => client.certificate;
	const read: OAuthConfig = {...base, clientSecret: undefined, clientCertificate: {certificate, key: async () => client.key}};
	t.is(keyOf(read), keyOf({...read, clientCertificate: {certificate, key: async () => client.key}}));
	t.not(keyOf(read), keyOf({...read, clientCertificate: {certificate: async () => client.certificate, key: async () => client.key}}));
	t.not(keyOf(read), keyOf(pem(client.certificate, client.key)));
});

test('the key holds neither the secret nor the refresh token', t => {
	const source = createTokenSource({...base, clientSecret: 'SECRET-VALUE', grant: 'refresh_token', refreshToken: 'REFRESH-VALUE'});
	t.false(source.cacheKey.includes('SECRET'));
	t.false(source.cacheKey.includes('REFRESH'));
});

const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const changes: Array<[string, Partial<OAuthConfig>]> = [
	['token endpoint', {tokenEndpoint: 'https://auth.example/other-token'}],
	['issuer', {tokenEndpoint: undefined, issuer: 'https://auth.example'}],
	['client id', {clientId: 'other'}],
	['client authentication', {clientAuthentication: 'client_secret_post'}],
	['client certificate', {clientAuthentication: 'tls_client_auth', tokenRequest: {https: {certificate: 'CERT', key: 'KEY'}}}],
	['scope', {scope: 'read'}],
	['audience', {audience: 'urn:api'}],
	['resource', {resource: 'https://api.example/'}],
	['extra parameters', {extraParams: {tenant: 'acme'}}],
	['grant', {grant: 'refresh_token', refreshToken: 'rt-1'}],
	['refresh token', {grant: 'refresh_token', refreshToken: 'rt-2'}],
	['JWT bearer subject', {grant: jwtBearer, privateKey: generateKeyPairSync('ed25519').privateKey, assertionClaims: {sub: 'user-1'}}],
	['JWT bearer assertion', {grant: jwtBearer, assertion: 'eyJ.a.b'}],
	['subject token', {grant: tokenExchange, subjectToken: 'user-token'}],
	['subject token callback', {grant: tokenExchange, subjectToken: callback}],
	['subject token type', {grant: tokenExchange, subjectToken: callback, subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt'}],
	['actor token', {grant: tokenExchange, subjectToken: callback, actorToken: 'actor'}],
	['requested token type', {grant: tokenExchange, subjectToken: callback, requestedTokenType: 'urn:ietf:params:oauth:token-type:jwt'}],
	['custom grant', {grant: async () => ({access_token: 'x'})}],
];

test('each thing that shapes the token changes the key', t => {
	const keys = new Map<string, string>([['base', keyOf(base)]]);
	for (const [name, change] of changes) {
		const key = keyOf({...base, ...change});
		const same = [...keys].find(([, other]) => other === key);
		t.is(same, undefined, `${name} has the same key as ${same?.[0]}`);
		keys.set(name, key);
	}
});

test('a callback is known by identity: the same function gives the same key, another function another key', t => {
	const config: OAuthConfig = {...base, grant: tokenExchange, subjectToken: callback};
	t.is(keyOf(config), keyOf({...config}));
	t.not(keyOf(config), keyOf({...config, subjectToken: async () => 'token'}));
});

test('a pfx client certificate counts like a PEM one', t => {
	const pfx = (bytes: number[]) => ({...base, clientAuthentication: 'tls_client_auth' as const, tokenRequest: {https: {pfx: [{buffer: Buffer.from(bytes), passphrase: 'p'}]}}});
	t.is(keyOf(pfx([1, 2])), keyOf(pfx([1, 2])));
	t.not(keyOf(pfx([1, 2])), keyOf(pfx([1, 3])));
});

test('a list of PEM certificates counts in order', t => {
	const certificates = (list: string[]) => ({...base, clientAuthentication: 'tls_client_auth' as const, tokenRequest: {https: {certificate: list, key: 'KEY'}}});
	t.is(keyOf(certificates(['A', 'B'])), keyOf(certificates(['A', 'B'])));
	t.not(keyOf(certificates(['A', 'B'])), keyOf(certificates(['B', 'A'])));
});

test('assertion claims count at every depth, as JSON would show them', t => {
	const claims = (value: unknown) => keyOf({...base, grant: jwtBearer, privateKey: generateKeyPairSync('ed25519').privateKey, assertionClaims: {nested: value}});
	t.is(claims({a: [1, {b: 2}], when: new Date(0)}), claims({when: new Date(0), a: [1, {b: 2}]}));
	t.not(claims({a: [1, {b: 2}]}), claims({a: [1, {b: 3}]}));
	t.not(claims([undefined]), claims([]));
});
