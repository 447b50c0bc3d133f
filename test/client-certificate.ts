/*
`clientCertificate`: a client certificate renewed while the process runs (cert-manager, a SPIFFE X.509-SVID) is read for every token request attempt and presented on a new TLS connection, against an HTTPS token endpoint on loopback that requires a certificate from its CA and records the one each request came with.
*/
import {createHash, createPrivateKey} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {Agent, createServer} from 'node:https';
import type {TLSSocket} from 'node:tls';
import test, {type ExecutionContext} from 'ava';
import {createTokenSource, pemFromFile, type OAuthConfig} from '../source/index.js';
import {testPki, thumbprint} from './helpers/certificates.js';
import {fileDirectory} from './helpers/federation.js';
import {serveOnLoopback} from './helpers/local-servers.js';

const pki = testPki();

type Seen = {
	readonly path: string;
	readonly form: Record<string, string>;
	/** RFC 8705 `x5t#S256` of the certificate the client presented, if any. */
	readonly certificate: string | undefined;
	/** The socket's order of arrival: a new number is a new TLS connection. */
	readonly connection: number;
};

async function startMtlsServer(t: ExecutionContext) {
	const seen: Seen[] = [];
	const sockets = new Map<TLSSocket, number>();
	let issued = 0;
	async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const chunks: Uint8Array[] = [];
		for await (const chunk of request) {
			chunks.push(chunk as Uint8Array);
		}

		const socket = request.socket as TLSSocket;
		if (!sockets.has(socket)) {
			sockets.set(socket, sockets.size + 1);
		}

		// RFC 8705 §3.1 `x5t#S256`.
		const {raw} = socket.getPeerCertificate();
		const certificate = raw === undefined ? undefined : createHash('sha256').update(raw).digest('base64url');
		const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
		seen.push({path: request.url ?? '', form, certificate, connection: sockets.get(socket)!});
		const send = (status: number, body: unknown) => {
			response.writeHead(status, {'content-type': 'application/json'});
			response.end(JSON.stringify(body));
		};

		if (request.url === '/.well-known/oauth-authorization-server') {
			send(200, {issuer: origin, token_endpoint: `${origin}/token`, mtls_endpoint_aliases: {token_endpoint: `${origin}/mtls/token`}, token_endpoint_auth_methods_supported: ['tls_client_auth']});
			return;
		}

		if (socket.authorized) {
			send(200, {access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 3600});
		} else {
			send(401, {error: 'invalid_client'});
		}
	}

	// RFC 8705 §2.1: a certificate from the CA; the handler, not the handshake, refuses others, so that what came is recorded.
	const server = createServer({key: pki.server.key, cert: pki.server.certificate, ca: pki.ca, requestCert: true, rejectUnauthorized: false}, (request, response) => {
		void handle(request, response);
	});

	const origin = `https://127.0.0.1:${await serveOnLoopback(server, t)}`;
	return {origin, seen};
}

function keepAliveAgent(t: ExecutionContext): Agent {
	const agent = new Agent({keepAlive: true});
	t.teardown(() => {
		agent.destroy();
	});
	return agent;
}

test('a renewed certificate is presented on the next token request: pemFromFile reads the files again, and a new TLS connection carries it, though a keep-alive one is open', async t => {
	const server = await startMtlsServer(t);
	const files = fileDirectory(t);
	const certificateFile = files.write('tls.crt', pki.client.certificate);
	const keyFile = files.write('tls.key', pki.client.key);
	const source = createTokenSource({
		tokenEndpoint: `${server.origin}/token`,
		clientId: 'payments-api',
		clientCertificate: {certificate: pemFromFile(certificateFile), key: pemFromFile(keyFile)},
		tokenRequest: {https: {certificateAuthority: pki.ca}, agent: {https: keepAliveAgent(t)}},
	});

	t.is(await source.getToken(), 'at-1');
	source.invalidate('at-1');
	t.is(await source.getToken(), 'at-2');
	// cert-manager renews: a new key and certificate in the same files.
	files.write('tls.crt', pki.renewed.certificate);
	files.write('tls.key', pki.renewed.key);
	source.invalidate('at-2');
	t.is(await source.getToken(), 'at-3');

	t.deepEqual(server.seen.map(({certificate, connection}) => ({certificate, connection})), [
		{certificate: thumbprint(pki.client.certificate), connection: 1},
		// Kept alive: the same connection, so the next one is new because the certificate is.
		{certificate: thumbprint(pki.client.certificate), connection: 1},
		{certificate: thumbprint(pki.renewed.certificate), connection: 2},
	]);
	// tls_client_auth, chosen because a certificate is given: the form names the client and proves nothing.
	t.deepEqual(server.seen[2]!.form, {grant_type: 'client_credentials', client_id: 'payments-api'});
});

test('with an issuer, the metadata request goes without the certificate, and the token request presents it at the mTLS alias (RFC 8705 §5)', async t => {
	const server = await startMtlsServer(t);
	const token = await createTokenSource({
		issuer: server.origin,
		clientId: 'payments-api',
		clientCertificate: {certificate: async () => pki.client.certificate, key: () => Buffer.from(pki.client.key)},
		tokenRequest: {https: {certificateAuthority: pki.ca}},
	}).getToken();

	t.is(token, 'at-1');
	t.deepEqual(server.seen.map(({path, certificate}) => ({path, certificate})), [
		{path: '/.well-known/oauth-authorization-server', certificate: undefined},
		{path: '/mtls/token', certificate: thumbprint(pki.client.certificate)},
	]);
});

test('an encrypted key, with its passphrase', async t => {
	const server = await startMtlsServer(t);
	const passphrase = 'correct horse';
	const encrypted = createPrivateKey(pki.client.key).export({format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase}) as string;
	const config: OAuthConfig = {tokenEndpoint: `${server.origin}/token`, clientId: 'payments-api', tokenRequest: {https: {certificateAuthority: pki.ca}}};

	t.is(await createTokenSource({...config, clientCertificate: {certificate: pki.client.certificate, key: encrypted, passphrase}}).getToken(), 'at-1');
	t.is(await createTokenSource({...config, clientCertificate: {certificate: pki.client.certificate, key: async () => encrypted, passphrase}}).getToken(), 'at-2');
	t.deepEqual(server.seen.map(({certificate}) => certificate), [thumbprint(pki.client.certificate), thumbprint(pki.client.certificate)]);
});

test('a renewal read half-way, the certificate before it and the key after, is read again: the pair presented matches', async t => {
	const server = await startMtlsServer(t);
	const reads = {certificate: 0, key: 0};
	const token = await createTokenSource({
		tokenEndpoint: `${server.origin}/token`,
		clientId: 'payments-api',
		clientCertificate: {
			certificate() {
				return ++reads.certificate === 1 ? pki.client.certificate : pki.renewed.certificate;
			},
			key() {
				reads.key++;
				return pki.renewed.key;
			},
		},
		tokenRequest: {https: {certificateAuthority: pki.ca}},
	}).getToken();

	t.is(token, 'at-1');
	t.deepEqual(reads, {certificate: 2, key: 2});
	t.deepEqual(server.seen.map(({certificate}) => certificate), [thumbprint(pki.renewed.certificate)]);
});
