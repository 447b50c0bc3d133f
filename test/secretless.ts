/*
Credentials that are not secrets, against nock: a client assertion someone else signed, the files a platform rotates, the Microsoft Entra Workload ID variables, and a client certificate read for every attempt. What goes on the wire, what each helper reads when, and how each fails. The recipes against real servers are in workload-identity.ts and client-certificate.ts.
*/
import {createPrivateKey} from 'node:crypto';
import {mkdirSync, rmSync} from 'node:fs';
import process from 'node:process';
import test, {type ExecutionContext} from 'ava';
import nock from 'nock';
import {
	createTokenSource,
	entraWorkloadIdentity,
	pemFromFile,
	tokenFromFile,
	TokenError,
	type OAuthConfig,
} from '../source/index.js';
import {testPki} from './helpers/certificates.js';
import {unsignedJwt} from './helpers/fakes.js';
import {fileDirectory} from './helpers/federation.js';

const origin = 'https://auth.example';
const tokenEndpoint = `${origin}/oauth/token`;
const jwtBearerAssertion = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const assertion = unsignedJwt({iss: 'https://oidc.cluster.example', sub: 'system:serviceaccount:payments:api'}) + 'c2lnbmF0dXJl';
const base: OAuthConfig = {tokenEndpoint, clientId: 'client', clientAssertion: assertion};
const pki = testPki();

type Seen = {body: URLSearchParams; headers: Headers};

function tokenEndpointReplies(...statuses: number[]): Seen[] {
	const seen: Seen[] = [];
	nock(origin).post('/oauth/token').times(statuses.length).reply(async (request: Request) => {
		seen.push({body: new URLSearchParams(await request.text()), headers: request.headers});
		return [statuses[seen.length - 1]!, JSON.stringify({access_token: `at-${seen.length}`, token_type: 'Bearer', expires_in: 3600})];
	});
	return seen;
}

/** A token request that must fail before anything is sent: its message, and whether the endpoint was called. */
async function failsUnsent(t: ExecutionContext, config: OAuthConfig): Promise<string> {
	const scope = nock(origin).post('/oauth/token').reply(200, {access_token: 'at', token_type: 'Bearer'});
	// Got's own retry options: the failure must say what it is, not what got made of it.
	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});
	t.false(scope.isDone());
	return error.message;
}

test.before(() => {
	nock.disableNetConnect();
});

test.afterEach.always(() => {
	nock.cleanAll();
});

test.serial('a clientAssertion is sent as client_assertion with the jwt-bearer type and the client_id, and nothing else authenticates (RFC 7521 §4.2)', async t => {
	const seen = tokenEndpointReplies(200);
	await createTokenSource(base).getToken();

	t.deepEqual([...seen[0]!.body], [
		['grant_type', 'client_credentials'],
		['client_id', 'client'],
		['client_assertion_type', jwtBearerAssertion],
		['client_assertion', assertion],
	]);
	t.is(seen[0]!.headers.get('authorization'), null);
});

test.serial('clientAssertionType is sent in its place', async t => {
	const seen = tokenEndpointReplies(200);
	await createTokenSource({...base, clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'}).getToken();
	t.is(seen[0]!.body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe');
});

test.serial('a clientAssertion function is called once for every attempt, got\'s retries included, and never kept', async t => {
	const seen = tokenEndpointReplies(503, 200, 200);
	let calls = 0;
	const source = createTokenSource({
		...base,
		async clientAssertion() {
			calls++;
			return unsignedJwt({n: calls}) + 'c2ln';
		},
		tokenRequest: {retry: {backoffLimit: 1}},
	});

	await source.getToken();
	source.invalidate('at-2');
	await source.getToken();

	t.is(calls, 3);
	t.deepEqual(seen.map(({body}) => body.get('client_assertion')), [1, 2, 3].map(n => unsignedJwt({n}) + 'c2ln'));
});

test.serial('a clientAssertion that is not a JWT is a TokenError naming the option, never quoting it; nothing is sent', async t => {
	const message = await failsUnsent(t, {...base, clientAssertion: () => 'SECRET-not-a-jwt'});
	t.true(message.endsWith('`clientAssertion` returned a string that is not a JWT (three base64url parts separated by dots, RFC 7519 §3)'));
	t.false(message.includes('SECRET'));
});

test.serial('a clientAssertion function that returns nothing is a TokenError', async t => {
	const message = await failsUnsent(t, {...base, clientAssertion: () => ''});
	t.true(message.endsWith('`clientAssertion` returned an empty string, not a token'));
});

test.serial('a token file holding something other than a JWT is named in the TokenError', async t => {
	const path = fileDirectory(t).write('token', 'SECRET-not-a-jwt\n');
	const message = await failsUnsent(t, {...base, clientAssertion: tokenFromFile(path)});
	t.true(message.endsWith(`\`clientAssertion\` (the file ${path}) returned a string that is not a JWT (three base64url parts separated by dots, RFC 7519 §3)`));
	t.false(message.includes('SECRET'));
});

test.serial('a subjectToken callback refused under got\'s default retry options is a TokenError that says why, not a TypeError from got\'s retry decision', async t => {
	const message = await failsUnsent(t, {tokenEndpoint, clientId: 'client', clientSecret: 'secret', grant: 'urn:ietf:params:oauth:grant-type:token-exchange', subjectToken: () => ''});
	t.true(message.endsWith('`subjectToken` returned an empty string, not a token'));
});

test.serial('the JWT bearer grant signed with privateKey, the client authenticated by a clientAssertion: both assertions are sent', async t => {
	const seen = tokenEndpointReplies(200);
	await createTokenSource({
		...base,
		grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
		privateKey: createPrivateKey(pki.client.key),
		assertionClaims: {sub: 'user-1'},
	}).getToken();

	t.is(seen[0]!.body.get('client_assertion'), assertion);
	t.regex(seen[0]!.body.get('assertion') ?? '', /^ey[\w\-]+\.ey[\w\-]+\.[\w\-]+$/v);
	t.not(seen[0]!.body.get('assertion'), assertion);
});

test.serial('with an issuer, a clientAssertion means private_key_jwt when the metadata lists it, and a TokenError when it does not', async t => {
	const metadata = (methods: string[]) => nock(origin).get('/.well-known/oauth-authorization-server').reply(200, {issuer: origin, token_endpoint: tokenEndpoint, token_endpoint_auth_methods_supported: methods});

	metadata(['client_secret_basic', 'private_key_jwt']);
	const seen = tokenEndpointReplies(200);
	await createTokenSource({issuer: origin, clientId: 'client', clientAssertion: assertion}).getToken();
	t.is(seen[0]!.body.get('client_assertion'), assertion);

	metadata(['client_secret_basic']);
	const error = await t.throwsAsync(createTokenSource({issuer: origin, clientId: 'client', clientAssertion: assertion}).getToken(), {instanceOf: TokenError});
	t.is(error.message, `Issuer "${origin}" supports client authentication by client_secret_basic; the credentials given allow private_key_jwt. Set \`clientAuthentication\` and its credentials`);
});

test('tokenFromFile reads the file on every call, trimmed', async t => {
	const files = fileDirectory(t);
	const read = tokenFromFile(files.write('token', ' first\n'));
	t.is(await read(), 'first');
	files.write('token', 'second\n');
	t.is(await read(), 'second');
});

test('tokenFromFile: a file gone or replaced by a directory since is a TokenError naming the path and what to check', async t => {
	const files = fileDirectory(t);
	const path = files.write('token', 'x');
	const read = tokenFromFile(path);
	rmSync(path);
	await t.throwsAsync(read(), {instanceOf: TokenError, message: `\`tokenFromFile('${path}')\` cannot read the file: it does not exist (ENOENT); check that the volume that holds it is mounted at that path`});
	mkdirSync(path);
	await t.throwsAsync(read(), {instanceOf: TokenError, message: `\`tokenFromFile('${path}')\` cannot read the file: it is a directory (EISDIR), not a file`});
});

test('tokenFromFile: any other reason a file cannot be read is a TokenError with its error code', async t => {
	const files = fileDirectory(t);
	const directory = files.file('locked');
	mkdirSync(directory);
	const path = files.write('locked/token', 'x');
	const read = tokenFromFile(path);
	// Running as root, permissions do not stop a read; a path through a file does, whoever reads.
	rmSync(directory, {recursive: true});
	files.write('locked', 'now a file');
	await t.throwsAsync(read(), {instanceOf: TokenError, message: `\`tokenFromFile('${path}')\` cannot read the file: it cannot be read (ENOTDIR)`});
});

test('pemFromFile reads the file on every call and says what writes it when it is empty', async t => {
	const files = fileDirectory(t);
	const path = files.write('tls.crt', pki.client.certificate);
	const read = pemFromFile(path);
	t.is(await read(), pki.client.certificate.trim());
	files.write('tls.crt', '');
	await t.throwsAsync(read(), {instanceOf: TokenError, message: `\`pemFromFile('${path}')\` read an empty file; check that the certificate manager has written it`});
});

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';

test('entraWorkloadIdentity: the token endpoint below the authority host, with or without its trailing slash, in any cloud', t => {
	const path = fileDirectory(t).write('token', assertion);
	const endpoint = (authorityHost?: string) => entraWorkloadIdentity({env: {AZURE_CLIENT_ID: 'app', AZURE_TENANT_ID: tenantId, AZURE_FEDERATED_TOKEN_FILE: path, AZURE_AUTHORITY_HOST: authorityHost}}).tokenEndpoint;

	t.is(endpoint(), `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`);
	t.is(endpoint('https://login.microsoftonline.us/'), `https://login.microsoftonline.us/${tenantId}/oauth2/v2.0/token`);
	t.is(endpoint('https://login.chinacloudapi.cn'), `https://login.chinacloudapi.cn/${tenantId}/oauth2/v2.0/token`);
	t.is(endpoint('https://adfs.contoso.example/adfs'), `https://adfs.contoso.example/adfs/${tenantId}/oauth2/v2.0/token`);
});

test('entraWorkloadIdentity: options stand in for the variables; a domain name is a tenant too', async t => {
	const files = fileDirectory(t);
	const fromEnvironment = files.write('env-token', 'from-env');
	const given = files.write('given-token', 'given');
	const config = entraWorkloadIdentity({
		clientId: 'given-app',
		tenantId: 'contoso.onmicrosoft.com',
		tokenFile: given,
		authorityHost: 'https://login.microsoftonline.us',
		env: {AZURE_CLIENT_ID: 'env-app', AZURE_TENANT_ID: tenantId, AZURE_FEDERATED_TOKEN_FILE: fromEnvironment},
	});

	t.is(config.tokenEndpoint, 'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token');
	t.is(config.clientId, 'given-app');
	t.is(await config.clientAssertion(), 'given');
});

test.serial('entraWorkloadIdentity reads process.env by default', async t => {
	const path = fileDirectory(t).write('token', 'from-process-env');
	const saved = {...process.env};
	t.teardown(() => {
		process.env = saved;
	});
	process.env = {...saved, AZURE_CLIENT_ID: 'app', AZURE_TENANT_ID: tenantId, AZURE_FEDERATED_TOKEN_FILE: path, AZURE_AUTHORITY_HOST: ''};

	const config = entraWorkloadIdentity();
	t.deepEqual({tokenEndpoint: config.tokenEndpoint, clientId: config.clientId}, {tokenEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`, clientId: 'app'});
	t.is(await config.clientAssertion(), 'from-process-env');
});

const certificateBase: OAuthConfig = {tokenEndpoint, clientId: 'client', clientAuthentication: 'tls_client_auth'};

test.serial('a clientCertificate function that returns no PEM is a TokenError naming it; nothing is sent', async t => {
	const message = await failsUnsent(t, {...certificateBase, clientCertificate: {certificate: async () => 42 as never, key: pki.client.key}});
	t.true(message.endsWith('`clientCertificate.certificate` returned number, not a PEM string or Uint8Array'));
});

test.serial('a certificate file that holds no certificate is a TokenError naming the file', async t => {
	const path = fileDirectory(t).write('tls.crt', 'not a certificate');
	const message = await failsUnsent(t, {...certificateBase, clientCertificate: {certificate: pemFromFile(path), key: pki.client.key}});
	t.true(message.endsWith(`\`clientCertificate.certificate\` (the file ${path}) is not an X.509 certificate in PEM`));
});

test.serial('a key function that returns no key, or one its passphrase does not decrypt, is a TokenError that never shows the key', async t => {
	const encrypted = createPrivateKey(pki.client.key).export({format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right'}) as string;
	const unencrypted = await failsUnsent(t, {...certificateBase, clientCertificate: {certificate: pki.client.certificate, key: () => encrypted}});
	t.true(unencrypted.endsWith('`clientCertificate.key` is not an unencrypted private key in PEM; give `clientCertificate.passphrase` for an encrypted one'));
	const wrong = await failsUnsent(t, {...certificateBase, clientCertificate: {certificate: pki.client.certificate, key: () => encrypted, passphrase: 'wrong'}});
	t.true(wrong.endsWith('`clientCertificate.key` is not a private key in PEM that `clientCertificate.passphrase` decrypts'));
	t.false(`${unencrypted}${wrong}`.includes('PRIVATE KEY'));
});

test.serial('a certificate and key that do not match, read twice, are a TokenError', async t => {
	let reads = 0;
	const message = await failsUnsent(t, {...certificateBase, clientCertificate: {certificate: pki.client.certificate, key() {
		reads++;
		return pki.renewed.key;
	}}});
	t.true(message.endsWith('`clientCertificate.certificate` is not the certificate of `clientCertificate.key`'));
	t.is(reads, 2);
});
